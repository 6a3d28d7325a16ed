/* postage-discovery.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Threads: started on one thread, every step and the result run in that
 * thread's thread-default main context (GResolver's async calls do the DNS
 * work on their own worker). Nothing here blocks.
 */
#define G_LOG_DOMAIN "postage-discovery"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "postage-discovery.h"

/* RFC 1035 §2.3.4 */
#define MAX_HOST_NAME 253

typedef struct {
  char             *email;
  char             *domain;   /* ASCII (IDNA) form, lower case */
  PostageProviders *providers;
  GResolver        *resolver;
  gboolean          srv_tls;  /* the SRV lookup in flight is _submissions */
} Lookup;

static void
lookup_free (Lookup *lookup)
{
  g_free (lookup->email);
  g_free (lookup->domain);
  g_clear_object (&lookup->resolver);
  g_free (lookup);
}

void
postage_discovery_result_free (PostageDiscoveryResult *result)
{
  if (result == NULL)
    return;
  g_free (result->host);
  g_free (result->user);
  g_free (result);
}

static PostageDiscoveryResult *
result_new (PostageDiscoverySource  source,
            const char             *host,
            guint16                 port,
            PostageSecurity         security,
            const char             *user)
{
  PostageDiscoveryResult *result = g_new0 (PostageDiscoveryResult, 1);

  result->source = source;
  result->host = g_strdup (host);
  result->port = port;
  result->security = security;
  result->user = g_strdup (user);
  return result;
}

static PostageDiscoveryResult *
result_for_provider (PostageDiscoverySource  source,
                     const PostageProvider  *provider,
                     const char             *email)
{
  PostageDiscoveryResult *result = result_new (source, provider->host, provider->port,
                                               provider->security, NULL);

  result->provider = provider;
  result->user = postage_provider_dup_user (provider, email);
  return result;
}

/* DNS answers are untrusted: a spoofed SRV target must not smuggle a port,
 * a path or a control character into the account. Letters, digits, hyphens
 * and dots only (RFC 1123 §2.1), after IDNA. */
static gboolean
is_plain_host_name (const char *host)
{
  gsize len = strlen (host);

  if (len == 0 || len > MAX_HOST_NAME || host[0] == '.' || host[0] == '-')
    return FALSE;
  for (const char *p = host; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

static char *
strip_root_dot (const char *host)
{
  gsize len = strlen (host);

  while (len > 0 && host[len - 1] == '.')
    len--;
  return g_ascii_strdown (host, len);
}

/* RFC 2782 orders by priority and spreads load randomly by weight; a setup
 * wizard wants one stable answer, so: the lowest priority, then the highest
 * weight. A lone "." target means "no such service here" (RFC 2782,
 * RFC 6186 §3.4), and GLib already drops it. */
static GSrvTarget *
pick_srv_target (GList *targets)
{
  GSrvTarget *best = NULL;

  for (GList *l = targets; l != NULL; l = l->next)
    {
      GSrvTarget *target = l->data;
      g_autofree char *host = strip_root_dot (g_srv_target_get_hostname (target));

      if (g_srv_target_get_port (target) == 0 || !is_plain_host_name (host))
        continue;
      if (best == NULL ||
          g_srv_target_get_priority (target) < g_srv_target_get_priority (best) ||
          (g_srv_target_get_priority (target) == g_srv_target_get_priority (best) &&
           g_srv_target_get_weight (target) > g_srv_target_get_weight (best)))
        best = target;
    }
  return best;
}

static gint
compare_mx (gconstpointer a,
            gconstpointer b)
{
  guint16 pa, pb;

  g_variant_get (*(GVariant **) a, "(qs)", &pa, NULL);
  g_variant_get (*(GVariant **) b, "(qs)", &pb, NULL);
  return (gint) pa - (gint) pb;
}

static void
return_guess (GTask *task)
{
  Lookup *lookup = g_task_get_task_data (task);
  g_autofree char *host = g_strconcat ("smtp.", lookup->domain, NULL);

  /* RFC 6409 §3.1: submission on 587; RFC 3207: STARTTLS before AUTH. */
  g_task_return_pointer (task,
                         result_new (POSTAGE_DISCOVERY_GUESS, host, 587,
                                     POSTAGE_SECURITY_STARTTLS, lookup->email),
                         (GDestroyNotify) postage_discovery_result_free);
}

/* Any failure other than cancellation just moves on to the next source: a
 * missing record, a DNS server that does not answer or a broken answer all
 * mean "this source knows nothing". */
static gboolean
return_if_cancelled (GTask  *task,
                     GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_error_copy (error));
      return TRUE;
    }
  if (error != NULL)
    g_debug ("DNS lookup failed: %s", error->message);
  return FALSE;
}

static void
mx_cb (GObject      *object,
       GAsyncResult *result,
       gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Lookup *lookup = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GList *records;
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();

  records = g_resolver_lookup_records_finish (G_RESOLVER (object), result, &error);
  if (return_if_cancelled (task, error))
    return;
  for (GList *l = records; l != NULL; l = l->next)
    g_ptr_array_add (sorted, l->data);
  g_ptr_array_sort (sorted, compare_mx);
  /* In preference order, the first exchanger that belongs to a listed
   * provider decides. An unknown MX is never used as the submission server:
   * it relays incoming mail and usually refuses AUTH. */
  for (guint i = 0; i < sorted->len; i++)
    {
      const char *exchange = NULL;
      const PostageProvider *provider;

      g_variant_get (g_ptr_array_index (sorted, i), "(q&s)", NULL, &exchange);
      provider = postage_providers_lookup_mx (lookup->providers, exchange);
      if (provider != NULL)
        {
          g_list_free_full (records, (GDestroyNotify) g_variant_unref);
          g_task_return_pointer (task,
                                 result_for_provider (POSTAGE_DISCOVERY_MX, provider,
                                                      lookup->email),
                                 (GDestroyNotify) postage_discovery_result_free);
          return;
        }
    }
  g_list_free_full (records, (GDestroyNotify) g_variant_unref);
  return_guess (task);
}

static void
lookup_mx (GTask *task)
{
  Lookup *lookup = g_task_get_task_data (task);

  g_resolver_lookup_records_async (lookup->resolver, lookup->domain, G_RESOLVER_RECORD_MX,
                                   g_task_get_cancellable (task), mx_cb, task);
}

static void lookup_srv (GTask *task, const char *service);

static void
srv_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  GTask *task = user_data;
  Lookup *lookup = g_task_get_task_data (task);
  gboolean implicit_tls = lookup->srv_tls;
  g_autoptr(GError) error = NULL;
  GList *targets;
  GSrvTarget *best;

  targets = g_resolver_lookup_service_finish (G_RESOLVER (object), result, &error);
  if (return_if_cancelled (task, error))
    {
      g_object_unref (task);
      return;
    }
  best = pick_srv_target (targets);
  if (best != NULL)
    {
      g_autofree char *host = strip_root_dot (g_srv_target_get_hostname (best));

      g_task_return_pointer (task,
                             result_new (POSTAGE_DISCOVERY_SRV, host,
                                         g_srv_target_get_port (best),
                                         implicit_tls ? POSTAGE_SECURITY_TLS
                                                      : POSTAGE_SECURITY_STARTTLS,
                                         lookup->email),
                             (GDestroyNotify) postage_discovery_result_free);
      g_resolver_free_targets (targets);
      g_object_unref (task);
      return;
    }
  g_resolver_free_targets (targets);
  if (implicit_tls)
    lookup_srv (task, "submission");
  else
    lookup_mx (task);
}

/* RFC 8314 §5.1: _submissions (TLS from the first byte) is preferred over
 * _submission (STARTTLS), whatever their priorities say. */
static void
lookup_srv (GTask      *task,
            const char *service)
{
  Lookup *lookup = g_task_get_task_data (task);

  lookup->srv_tls = strcmp (service, "submissions") == 0;
  g_resolver_lookup_service_async (lookup->resolver, service, "tcp", lookup->domain,
                                   g_task_get_cancellable (task), srv_cb, task);
}

void
postage_discovery_lookup_async (const char          *email,
                                PostageProviders    *providers,
                                GResolver           *resolver,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  const PostageProvider *provider;
  const char *at;
  Lookup *lookup;

  g_return_if_fail (email != NULL);
  g_return_if_fail (providers != NULL);
  g_return_if_fail (resolver == NULL || G_IS_RESOLVER (resolver));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, postage_discovery_lookup_async);

  at = strrchr (email, '@');
  lookup = g_new0 (Lookup, 1);
  lookup->email = g_strdup (email);
  lookup->providers = providers;
  lookup->resolver = resolver != NULL ? g_object_ref (resolver) : g_resolver_get_default ();
  g_task_set_task_data (task, lookup, (GDestroyNotify) lookup_free);
  if (at != NULL && at[1] != '\0')
    {
      g_autofree char *ascii = g_hostname_to_ascii (at + 1);

      if (ascii != NULL)
        lookup->domain = strip_root_dot (ascii);
    }
  if (lookup->domain == NULL || !is_plain_host_name (lookup->domain))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("“%s” is not an email address: write it as name@example.com."),
                               email);
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;

  provider = postage_providers_lookup_domain (providers, lookup->domain);
  if (provider != NULL)
    {
      g_task_return_pointer (task,
                             result_for_provider (POSTAGE_DISCOVERY_PROVIDER, provider, email),
                             (GDestroyNotify) postage_discovery_result_free);
      return;
    }
  lookup_srv (g_steal_pointer (&task), "submissions");
}

PostageDiscoveryResult *
postage_discovery_lookup_finish (GAsyncResult  *result,
                                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        postage_discovery_lookup_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
