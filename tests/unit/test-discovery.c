/* test-discovery.c — from an email address to submission settings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The same cases run two ways:
 *  - `discovery`: through GIO's resolver interface, with TestResolver below
 *    (a GResolver subclass answering from a table), everywhere;
 *  - `discovery-dns`: through the real system resolver (glibc) and a real DNS
 *    server, dnsmasq on 127.0.0.1:53 serving the same records, in a private
 *    network and mount namespace whose /etc/resolv.conf points at it
 *    (tests/lib/with-dns.sh sets POSTAGE_TEST_DNS=1). Needs root.
 * Both use the test zone in tests/lib/dns-zone.conf.
 */
#include "config.h"

#include <string.h>

#include "accounts/postage-discovery.h"

/* --- TestResolver: the zone of tests/lib/dns-zone.conf, in memory --- */

typedef struct {
  const char *rrname;
  const char *target;
  guint16     port;
  guint16     priority;
  guint16     weight;
} SrvRecord;

static const SrvRecord srv_records[] = {
  { "_submissions._tcp.both.test", "mail.both.test", 465, 10, 0 },
  { "_submission._tcp.both.test", "smtp.both.test", 587, 0, 0 },
  { "_submission._tcp.only.test", "backup.only.test", 587, 20, 5 },
  { "_submission._tcp.only.test", "low.only.test", 2587, 10, 1 },
  { "_submission._tcp.only.test", "heavy.only.test", 587, 10, 9 },
  /* "." is RFC 2782's "decidedly not available here" */
  { "_submissions._tcp.dot.test", ".", 0, 0, 0 },
};

static const struct {
  const char *domain;
  const char *exchange;
  guint16     preference;
} mx_records[] = {
  { "workspace.test", "alt1.aspmx.l.google.com", 10 },
  { "workspace.test", "aspmx.l.google.com", 1 },
  { "other.test", "mx.other.test", 10 },
  { "dot.test", "mx.dot.test", 10 },
};

#define TEST_TYPE_RESOLVER (test_resolver_get_type ())
G_DECLARE_FINAL_TYPE (TestResolver, test_resolver, TEST, RESOLVER, GResolver)

struct _TestResolver
{
  GResolver parent_instance;
  guint     n_queries;
};

G_DEFINE_FINAL_TYPE (TestResolver, test_resolver, G_TYPE_RESOLVER)

static void
not_found (GTask      *task,
           const char *name)
{
  g_task_return_new_error (task, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                           "No records for %s", name);
}

static void
test_resolver_lookup_service_async (GResolver           *resolver,
                                    const char          *rrname,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);
  GList *targets = NULL;

  TEST_RESOLVER (resolver)->n_queries++;
  if (g_task_return_error_if_cancelled (task))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (srv_records); i++)
    if (strcmp (srv_records[i].rrname, rrname) == 0)
      targets = g_list_append (targets, g_srv_target_new (srv_records[i].target,
                                                          srv_records[i].port,
                                                          srv_records[i].priority,
                                                          srv_records[i].weight));
  if (targets == NULL)
    not_found (task, rrname);
  else
    g_task_return_pointer (task, targets, (GDestroyNotify) g_resolver_free_targets);
}

static GList *
test_resolver_lookup_service_finish (GResolver     *resolver,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
free_records (GList *records)
{
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
}

static void
test_resolver_lookup_records_async (GResolver           *resolver,
                                    const char          *rrname,
                                    GResolverRecordType  record_type,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (resolver, cancellable, callback, user_data);
  GList *records = NULL;

  TEST_RESOLVER (resolver)->n_queries++;
  g_assert_cmpint (record_type, ==, G_RESOLVER_RECORD_MX);
  if (g_task_return_error_if_cancelled (task))
    return;
  for (guint i = 0; i < G_N_ELEMENTS (mx_records); i++)
    if (strcmp (mx_records[i].domain, rrname) == 0)
      records = g_list_append (records, g_variant_ref_sink (
                                 g_variant_new ("(qs)", mx_records[i].preference,
                                                mx_records[i].exchange)));
  if (records == NULL)
    not_found (task, rrname);
  else
    g_task_return_pointer (task, records, (GDestroyNotify) free_records);
}

static GList *
test_resolver_lookup_records_finish (GResolver     *resolver,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  resolver_class->lookup_service_async = test_resolver_lookup_service_async;
  resolver_class->lookup_service_finish = test_resolver_lookup_service_finish;
  resolver_class->lookup_records_async = test_resolver_lookup_records_async;
  resolver_class->lookup_records_finish = test_resolver_lookup_records_finish;
}

static void
test_resolver_init (TestResolver *self)
{
}

/* --- the cases --- */

typedef struct {
  PostageProviders *providers;
  GResolver        *resolver;   /* a TestResolver, or NULL for the system's */
} Fixture;

static gboolean
use_real_dns (void)
{
  return g_strcmp0 (g_getenv ("POSTAGE_TEST_DNS"), "1") == 0;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->providers = postage_providers_load_default (&error);
  g_assert_no_error (error);
  if (!use_real_dns ())
    fixture->resolver = g_object_new (TEST_TYPE_RESOLVER, NULL);
}

static void
fixture_tear (Fixture       *fixture,
              gconstpointer  data)
{
  g_clear_pointer (&fixture->providers, postage_providers_free);
  if (fixture->resolver != NULL)
    g_assert_finalize_object (g_steal_pointer (&fixture->resolver));
}

static void
done_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static PostageDiscoveryResult *
discover (Fixture       *fixture,
          const char    *email,
          GCancellable  *cancellable,
          GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  postage_discovery_lookup_async (email, fixture->providers, fixture->resolver, cancellable,
                                  done_cb, &result);
  /* Bounded by the resolver's own timeouts; with dnsmasq on loopback every
   * answer is immediate. */
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return postage_discovery_lookup_finish (result, error);
}

static PostageDiscoveryResult *
discover_ok (Fixture    *fixture,
             const char *email)
{
  g_autoptr(GError) error = NULL;
  PostageDiscoveryResult *found = discover (fixture, email, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (found);
  return found;
}

static void
test_srv_submissions_first (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(PostageDiscoveryResult) found = discover_ok (fixture, "me@both.test");

  /* _submissions wins although _submission has the better priority. */
  g_assert_cmpint (found->source, ==, POSTAGE_DISCOVERY_SRV);
  g_assert_null (found->provider);
  g_assert_cmpstr (found->host, ==, "mail.both.test");
  g_assert_cmpuint (found->port, ==, 465);
  g_assert_cmpint (found->security, ==, POSTAGE_SECURITY_TLS);
  g_assert_cmpstr (found->user, ==, "me@both.test");
}

static void
test_srv_submission_only (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autoptr(PostageDiscoveryResult) found = discover_ok (fixture, "me@ONLY.test");

  /* Lowest priority, then highest weight. */
  g_assert_cmpint (found->source, ==, POSTAGE_DISCOVERY_SRV);
  g_assert_cmpstr (found->host, ==, "heavy.only.test");
  g_assert_cmpuint (found->port, ==, 587);
  g_assert_cmpint (found->security, ==, POSTAGE_SECURITY_STARTTLS);
}

static void
test_mx_gmail (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(PostageDiscoveryResult) found = discover_ok (fixture, "boss@workspace.test");

  g_assert_cmpint (found->source, ==, POSTAGE_DISCOVERY_MX);
  g_assert_nonnull (found->provider);
  g_assert_cmpstr (found->provider->id, ==, "gmail");
  g_assert_cmpstr (found->host, ==, "smtp.gmail.com");
  g_assert_cmpuint (found->port, ==, 465);
  g_assert_cmpint (found->security, ==, POSTAGE_SECURITY_TLS);
  g_assert_cmpstr (found->user, ==, "boss@workspace.test");
}

static void
test_guess (Fixture       *fixture,
            gconstpointer  data)
{
  /* nothing.test has no records at all; other.test an unknown MX, which is
   * never used for submission; dot.test a "." SRV target. */
  const char *emails[] = { "me@nothing.test", "me@other.test", "me@dot.test" };
  const char *hosts[] = { "smtp.nothing.test", "smtp.other.test", "smtp.dot.test" };

  for (guint i = 0; i < G_N_ELEMENTS (emails); i++)
    {
      g_autoptr(PostageDiscoveryResult) found = discover_ok (fixture, emails[i]);

      g_assert_cmpint (found->source, ==, POSTAGE_DISCOVERY_GUESS);
      g_assert_null (found->provider);
      g_assert_cmpstr (found->host, ==, hosts[i]);
      g_assert_cmpuint (found->port, ==, 587);
      g_assert_cmpint (found->security, ==, POSTAGE_SECURITY_STARTTLS);
      g_assert_cmpstr (found->user, ==, emails[i]);
    }
}

static void
test_provider_first (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(PostageDiscoveryResult) found = discover_ok (fixture, "me@iCloud.com");

  g_assert_cmpint (found->source, ==, POSTAGE_DISCOVERY_PROVIDER);
  g_assert_cmpstr (found->provider->id, ==, "icloud");
  g_assert_cmpstr (found->host, ==, "smtp.mail.me.com");
  g_assert_cmpuint (found->port, ==, 587);
  g_assert_cmpint (found->security, ==, POSTAGE_SECURITY_STARTTLS);
  g_assert_cmpstr (found->user, ==, "me@iCloud.com");
  /* A listed domain never goes to DNS. */
  if (fixture->resolver != NULL)
    g_assert_cmpuint (TEST_RESOLVER (fixture->resolver)->n_queries, ==, 0);
}

static void
test_invalid_and_cancelled (Fixture       *fixture,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  const char *invalid[] = { "no-at-sign", "me@", "me@bad host.test", "me@evil.test:25" };

  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      g_assert_null (discover (fixture, invalid[i], NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  g_cancellable_cancel (cancellable);
  g_assert_null (discover (fixture, "me@both.test", cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_message (use_real_dns () ? "through the system resolver and dnsmasq on 127.0.0.1"
                                  : "through GIO's resolver interface (TestResolver)");
#define ADD(path, func) \
  g_test_add ("/postage/discovery/" path, Fixture, NULL, fixture_setup, func, fixture_tear)
  ADD ("srv-submissions-first", test_srv_submissions_first);
  ADD ("srv-submission-only", test_srv_submission_only);
  ADD ("mx-gmail", test_mx_gmail);
  ADD ("guess", test_guess);
  ADD ("provider-first", test_provider_first);
  ADD ("invalid-and-cancelled", test_invalid_and_cancelled);
#undef ADD
  return g_test_run ();
}
