/* postage-msmtp-import.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Pure parsing of msmtp's configuration format (msmtp(1), "Configuration
 * files"); any thread. The file may hold a plaintext password, so the copy
 * read into memory is wiped before it is freed, and the value of a `password`
 * or `passwordeval` line is never copied anywhere.
 */
#define G_LOG_DOMAIN "postage-msmtp-import"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "postage-msmtp-import.h"

/* A configuration file is a few kilobytes; refuse anything absurd. */
#define MAX_CONFIG_SIZE (1024 * 1024)

typedef enum {
  UNSET = -1,
  OFF = 0,
  ON = 1,
} Switch;

/* One msmtp account or the defaults: only what was set, so inheritance can
 * copy exactly the settings a parent made. */
typedef struct {
  char     *name;
  char     *host;
  char     *user;
  char     *from;
  char     *trust_file;
  char     *fingerprint;
  int       port;          /* -1: unset */
  Switch    tls;
  Switch    starttls;
  Switch    auth;
  gboolean  had_password;
  gboolean  had_passwordeval;
  guint     n_settings;    /* commands given in this section itself */
} Section;

static Section *
section_new (const char *name)
{
  Section *section = g_new0 (Section, 1);

  section->name = g_strdup (name);
  section->port = -1;
  section->tls = section->starttls = section->auth = UNSET;
  return section;
}

static void
section_free (Section *section)
{
  g_free (section->name);
  g_free (section->host);
  g_free (section->user);
  g_free (section->from);
  g_free (section->trust_file);
  g_free (section->fingerprint);
  g_free (section);
}

static void
take_if_set (char       **to,
             const char  *from)
{
  if (from != NULL)
    {
      g_free (*to);
      *to = g_strdup (from);
    }
}

/* Copies what @from set over @to (msmtp: "account NAME : PARENT"). */
static void
section_inherit (Section       *to,
                 const Section *from)
{
  take_if_set (&to->host, from->host);
  take_if_set (&to->user, from->user);
  take_if_set (&to->from, from->from);
  take_if_set (&to->trust_file, from->trust_file);
  take_if_set (&to->fingerprint, from->fingerprint);
  if (from->port != -1)
    to->port = from->port;
  if (from->tls != UNSET)
    to->tls = from->tls;
  if (from->starttls != UNSET)
    to->starttls = from->starttls;
  if (from->auth != UNSET)
    to->auth = from->auth;
  to->had_password |= from->had_password;
  to->had_passwordeval |= from->had_passwordeval;
}

static void
msmtp_account_free (PostageMsmtpAccount *item)
{
  g_clear_object (&item->account);
  g_free (item->problem);
  g_free (item);
}

static gboolean
malformed (GError     **error,
           const char  *path,
           guint        line_no,
           const char  *what)
{
  /* Translators: a file name, a line number, then what is wrong */
  g_set_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_INVALID,
               _("%s, line %u: %s"), path, line_no, what);
  return FALSE;
}

/* msmtp's quoting: double quotes group text, and inside them a backslash
 * makes the next character literal (so \" and \\). */
static char *
unquote (const char *text,
         gboolean   *ok)
{
  GString *out = g_string_new (NULL);
  gboolean quoted = FALSE;

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"')
        quoted = !quoted;
      else if (quoted && *p == '\\' && p[1] != '\0')
        g_string_append_c (out, *++p);
      else
        g_string_append_c (out, *p);
    }
  *ok = !quoted;
  return g_string_free (out, FALSE);
}

static gboolean
parse_switch (const char *arg,
              Switch     *out)
{
  /* msmtp: a bare "tls" means on. */
  if (*arg == '\0' || strcmp (arg, "on") == 0)
    *out = ON;
  else if (strcmp (arg, "off") == 0)
    *out = OFF;
  else
    return FALSE;
  return TRUE;
}

static char *
expand_tilde (const char *path)
{
  if (path[0] == '~' && (path[1] == '/' || path[1] == '\0'))
    return g_build_filename (g_get_home_dir (), path + 1, NULL);
  return g_strdup (path);
}

/* "account NAME : PARENT[, PARENT…]": starts from the defaults, then each
 * parent in order. */
static Section *
start_account (const char     *arg,
               const Section  *defaults,
               GHashTable     *by_name,
               const char     *path,
               guint           line_no,
               GError        **error)
{
  g_auto(GStrv) halves = g_strsplit (arg, ":", 2);
  g_autofree char *name = g_strstrip (g_strdup (halves[0] != NULL ? halves[0] : ""));
  Section *section;

  if (*name == '\0' || strpbrk (name, " \t,") != NULL)
    {
      malformed (error, path, line_no, _("an account needs a name"));
      return NULL;
    }
  if (g_hash_table_contains (by_name, name))
    {
      malformed (error, path, line_no, _("this account name is used twice"));
      return NULL;
    }
  section = section_new (name);
  section_inherit (section, defaults);
  if (halves[0] != NULL && halves[1] != NULL)
    {
      g_auto(GStrv) parents = g_strsplit (halves[1], ",", -1);

      for (guint i = 0; parents[i] != NULL; i++)
        {
          g_autofree char *parent_name = g_strstrip (g_strdup (parents[i]));
          Section *parent = g_hash_table_lookup (by_name, parent_name);

          if (parent == NULL)
            {
              section_free (section);
              malformed (error, path, line_no,
                         _("it inherits from an account that is not defined above it"));
              return NULL;
            }
          section_inherit (section, parent);
        }
    }
  return section;
}

static gboolean
apply_command (Section     *section,
               const char  *command,
               const char  *arg,
               const char  *path,
               guint        line_no,
               GError     **error)
{
  section->n_settings++;
  if (strcmp (command, "host") == 0)
    take_if_set (&section->host, arg);
  else if (strcmp (command, "port") == 0)
    {
      guint64 port;

      if (!g_ascii_string_to_unsigned (arg, 10, 1, G_MAXUINT16, &port, NULL))
        return malformed (error, path, line_no, _("the port must be a number from 1 to 65535"));
      section->port = (int) port;
    }
  else if (strcmp (command, "tls") == 0)
    {
      if (!parse_switch (arg, &section->tls))
        return malformed (error, path, line_no, _("tls must be on or off"));
    }
  else if (strcmp (command, "tls_starttls") == 0)
    {
      if (!parse_switch (arg, &section->starttls))
        return malformed (error, path, line_no, _("tls_starttls must be on or off"));
    }
  else if (strcmp (command, "auth") == 0)
    /* "auth plain", "auth scram-sha-256"…: any method means on. */
    section->auth = strcmp (arg, "off") == 0 ? OFF : ON;
  else if (strcmp (command, "user") == 0)
    take_if_set (&section->user, arg);
  else if (strcmp (command, "from") == 0)
    take_if_set (&section->from, arg);
  else if (strcmp (command, "tls_trust_file") == 0)
    {
      g_free (section->trust_file);
      /* msmtp ≥ 1.8: "system" (or empty) means the system's authorities.
       * Kept as "" rather than NULL so that it overrides an inherited file. */
      section->trust_file = *arg == '\0' || strcmp (arg, "system") == 0 ? g_strdup ("")
                                                                         : expand_tilde (arg);
    }
  else if (strcmp (command, "tls_fingerprint") == 0)
    take_if_set (&section->fingerprint, arg);
  else if (strcmp (command, "password") == 0)
    section->had_password = TRUE;
  else if (strcmp (command, "passwordeval") == 0)
    section->had_passwordeval = TRUE;
  else
    /* logfile, aliases, tls_certcheck… mean nothing to Postage. */
    section->n_settings--;
  return TRUE;
}

/* Turns a finished section into an account, or says why it cannot be one. */
static PostageMsmtpAccount *
section_to_account (const Section *section)
{
  PostageMsmtpAccount *item = g_new0 (PostageMsmtpAccount, 1);
  g_autoptr(GError) error = NULL;
  PostageSecurity security;
  gboolean tls = section->tls == ON;
  gboolean starttls = section->starttls != OFF;
  PostageAccount *account = postage_account_new (section->name);

  item->account = account;
  item->had_password = section->had_password;
  item->had_passwordeval = section->had_passwordeval;

  /* msmtp's defaults: tls off, tls_starttls on; port 25, or 465 for TLS
   * without STARTTLS. Copied as msmtp used them, so the account keeps
   * working the way it did. */
  security = !tls ? POSTAGE_SECURITY_NONE
                  : starttls ? POSTAGE_SECURITY_STARTTLS : POSTAGE_SECURITY_TLS;
  postage_account_set_host (account, section->host);
  postage_account_set_security (account, security);
  postage_account_set_port (account, section->port != -1 ? (guint16) section->port
                                     : security == POSTAGE_SECURITY_TLS ? 465 : 25);
  postage_account_set_email (account, section->from);
  /* Empty means "no sign-in" for Postage; unset falls back to the address. */
  postage_account_set_user (account, section->auth == OFF ? "" : section->user);
  if (section->trust_file != NULL && *section->trust_file != '\0')
    postage_account_set_ca_file (account, section->trust_file);

  if (section->fingerprint != NULL)
    {
      g_autofree char *normalized = postage_fingerprint_normalize (section->fingerprint);

      if (normalized == NULL)
        {
          item->problem = g_strdup (_("Its tls_fingerprint is not a SHA-256 fingerprint, the "
                                      "only kind Postage accepts."));
          return item;
        }
      postage_account_set_fingerprint (account, normalized);
    }
  if (section->host == NULL)
    item->problem = g_strdup (_("It has no host."));
  else if (section->from == NULL || strpbrk (section->from, "%*") != NULL)
    /* msmtp can derive From from patterns (%U@%H, *@domain); Postage needs
     * the one address. */
    item->problem = g_strdup (_("It has no single from address."));
  else if (security == POSTAGE_SECURITY_NONE && !postage_host_is_loopback (section->host))
    item->problem = g_strdup (_("It sends without TLS (tls off) to another computer; "
                                "Postage never sends a password unencrypted."));
  else if (!postage_account_validate (account, &error) ||
           !postage_account_check_ca_file (account, &error))
    item->problem = g_strdup (error->message);
  return item;
}

char *
postage_msmtp_find_config (void)
{
  g_autofree char *xdg = g_build_filename (g_get_user_config_dir (), "msmtp", "config", NULL);
  g_autofree char *home = g_build_filename (g_get_home_dir (), ".msmtprc", NULL);

  /* msmtp reads $XDG_CONFIG_HOME/msmtp/config first, then ~/.msmtprc. */
  if (g_file_test (xdg, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&xdg);
  if (g_file_test (home, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&home);
  return NULL;
}

static void
wipe_free (char  *contents,
           gsize  length)
{
  if (contents != NULL)
    explicit_bzero (contents, length);
  g_free (contents);
}

static gboolean
parse_lines (char        *contents,
             const char  *path,
             GPtrArray   *sections,
             GError     **error)
{
  g_autoptr(GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  Section *defaults = section_new (NULL);
  Section *current = defaults;
  char *next = contents;
  guint line_no = 0;

  g_ptr_array_add (sections, defaults);
  while (next != NULL)
    {
      char *line = next;
      char *end = strchr (line, '\n');
      char *arg_start;
      g_autofree char *command = NULL;
      g_autofree char *arg = NULL;
      gboolean ok;

      next = end != NULL ? end + 1 : NULL;
      if (end != NULL)
        *end = '\0';
      line_no++;
      g_strstrip (line);
      /* msmtp: comments are whole lines that start with #. */
      if (*line == '\0' || *line == '#')
        continue;
      arg_start = line + strcspn (line, " \t");
      command = g_strndup (line, arg_start - line);
      /* The value of a password line is never looked at, not even unquoted. */
      if (strcmp (command, "password") == 0 || strcmp (command, "passwordeval") == 0)
        {
          apply_command (current, command, "", path, line_no, NULL);
          continue;
        }
      arg = unquote (g_strchug (arg_start), &ok);
      if (!ok)
        return malformed (error, path, line_no, _("a quote is not closed"));
      if (strcmp (command, "defaults") == 0)
        current = defaults;
      else if (strcmp (command, "account") == 0)
        {
          current = start_account (arg, defaults, by_name, path, line_no, error);
          if (current == NULL)
            return FALSE;
          g_ptr_array_add (sections, current);
          g_hash_table_insert (by_name, current->name, current);
        }
      else if (!apply_command (current, command, arg, path, line_no, error))
        return FALSE;
    }
  return TRUE;
}

GPtrArray *
postage_msmtp_import_read_full (const char  *path,
                                GError     **error)
{
  g_autoptr(GPtrArray) sections = g_ptr_array_new_with_free_func ((GDestroyNotify) section_free);
  g_autoptr(GPtrArray) accounts = NULL;
  char *contents = NULL;
  gsize length = 0;
  gboolean parsed;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   _("%s does not exist or is not a regular file."), path);
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  if (length > MAX_CONFIG_SIZE || memchr (contents, '\0', length) != NULL)
    {
      wipe_free (contents, length);
      g_set_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_INVALID,
                   _("%s is not an msmtp configuration file."), path);
      return NULL;
    }
  parsed = parse_lines (contents, path, sections, error);
  wipe_free (contents, length);
  if (!parsed)
    return NULL;

  accounts = g_ptr_array_new_with_free_func ((GDestroyNotify) msmtp_account_free);
  /* Index 0 is the defaults. */
  for (guint i = 1; i < sections->len; i++)
    {
      Section *section = g_ptr_array_index (sections, i);

      /* "account default : gmail" only names the default; it is not a
       * second account. */
      if (strcmp (section->name, "default") == 0 && section->n_settings == 0)
        continue;
      g_ptr_array_add (accounts, section_to_account (section));
    }
  return g_steal_pointer (&accounts);
}

GPtrArray *
postage_msmtp_import_read (const char  *path,
                           GError     **error)
{
  g_autoptr(GPtrArray) all = postage_msmtp_import_read_full (path, error);
  GPtrArray *usable;

  if (all == NULL)
    return NULL;
  usable = g_ptr_array_new_with_free_func ((GDestroyNotify) msmtp_account_free);
  for (guint i = 0; i < all->len; i++)
    {
      PostageMsmtpAccount *item = g_ptr_array_index (all, i);

      if (item->problem != NULL)
        {
          g_message ("Not importing msmtp account “%s”: %s",
                     postage_account_get_id (item->account), item->problem);
          continue;
        }
      g_ptr_array_add (usable, g_ptr_array_steal_index (all, i--));
    }
  return usable;
}
