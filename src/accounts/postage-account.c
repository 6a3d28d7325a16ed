/* postage-account.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "postage-account"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "mail/postage-address.h"
#include "postage-account.h"

struct _PostageAccount
{
  GObject parent_instance;

  char            *id;
  char            *display_name;
  char            *email;
  char            *host;
  char            *user;
  char            *ca_file;
  char            *fingerprint;
  guint16          port;
  PostageSecurity  security;
  guint64          size_limit;
};

enum {
  PROP_0,
  PROP_ID,
  PROP_DISPLAY_NAME,
  PROP_EMAIL,
  PROP_HOST,
  PROP_PORT,
  PROP_SECURITY,
  PROP_USER,
  PROP_CA_FILE,
  PROP_FINGERPRINT,
  PROP_SIZE_LIMIT,
  N_PROPS
};

G_DEFINE_FINAL_TYPE (PostageAccount, postage_account, G_TYPE_OBJECT)
G_DEFINE_QUARK (postage-account-error-quark, postage_account_error)

static GParamSpec *properties[N_PROPS];

GType
postage_security_get_type (void)
{
  static gsize gtype_id = 0;
  static const GEnumValue values[] = {
    { POSTAGE_SECURITY_STARTTLS, "POSTAGE_SECURITY_STARTTLS", "starttls" },
    { POSTAGE_SECURITY_TLS, "POSTAGE_SECURITY_TLS", "tls" },
    { POSTAGE_SECURITY_NONE, "POSTAGE_SECURITY_NONE", "none" },
    { 0, NULL, NULL }
  };

  if (g_once_init_enter (&gtype_id))
    g_once_init_leave (&gtype_id, g_enum_register_static ("PostageSecurity", values));
  return gtype_id;
}

const char *
postage_security_to_string (PostageSecurity security)
{
  switch (security)
    {
    case POSTAGE_SECURITY_STARTTLS: return "starttls";
    case POSTAGE_SECURITY_TLS: return "tls";
    case POSTAGE_SECURITY_NONE: return "none";
    default: return "starttls";
    }
}

gboolean
postage_security_from_string (const char      *text,
                              PostageSecurity *out_security)
{
  static const struct { const char *name; PostageSecurity value; } names[] = {
    { "starttls", POSTAGE_SECURITY_STARTTLS },
    { "tls", POSTAGE_SECURITY_TLS },
    { "ssl", POSTAGE_SECURITY_TLS },
    { "none", POSTAGE_SECURITY_NONE },
  };

  g_return_val_if_fail (out_security != NULL, FALSE);

  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (text, names[i].name) == 0)
      {
        *out_security = names[i].value;
        return TRUE;
      }
  return FALSE;
}

guint16
postage_security_default_port (PostageSecurity security)
{
  /* RFC 8314 §7.3 (465), RFC 6409 §3.1 (587) */
  return security == POSTAGE_SECURITY_TLS ? 465 : 587;
}

gboolean
postage_host_is_loopback (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;

  if (host == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0 ||
      g_str_has_suffix (host, ".localhost"))
    return TRUE;

  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

/* A host name (letters, digits, '-' and '.', at most 253 octets, RFC 1035
 * §2.3.4) or an IP address literal; nothing a resolver or a shell could
 * read as anything else. */
static gboolean
is_host_name (const char *host)
{
  if (g_hostname_is_ip_address (host))
    return TRUE;
  if (strlen (host) > 253 || host[0] == '-' || host[0] == '.')
    return FALSE;
  return strspn (host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") ==
         strlen (host);
}

static gboolean
has_control_chars (const char *text)
{
  for (const char *p = text; p != NULL && *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

static void
postage_account_finalize (GObject *object)
{
  PostageAccount *self = (PostageAccount *) object;

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->display_name, g_free);
  g_clear_pointer (&self->email, g_free);
  g_clear_pointer (&self->host, g_free);
  g_clear_pointer (&self->user, g_free);
  g_clear_pointer (&self->ca_file, g_free);
  g_clear_pointer (&self->fingerprint, g_free);

  G_OBJECT_CLASS (postage_account_parent_class)->finalize (object);
}

static void
postage_account_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  PostageAccount *self = POSTAGE_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_ID: g_value_set_string (value, self->id); break;
    case PROP_DISPLAY_NAME: g_value_set_string (value, self->display_name); break;
    case PROP_EMAIL: g_value_set_string (value, self->email); break;
    case PROP_HOST: g_value_set_string (value, self->host); break;
    case PROP_PORT: g_value_set_uint (value, self->port); break;
    case PROP_SECURITY: g_value_set_enum (value, self->security); break;
    case PROP_USER: g_value_set_string (value, self->user); break;
    case PROP_CA_FILE: g_value_set_string (value, self->ca_file); break;
    case PROP_FINGERPRINT: g_value_set_string (value, self->fingerprint); break;
    case PROP_SIZE_LIMIT: g_value_set_uint64 (value, self->size_limit); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
postage_account_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  PostageAccount *self = POSTAGE_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_free (self->id);
      self->id = g_value_dup_string (value);
      break;
    case PROP_DISPLAY_NAME:
      postage_account_set_display_name (self, g_value_get_string (value));
      break;
    case PROP_EMAIL: postage_account_set_email (self, g_value_get_string (value)); break;
    case PROP_HOST: postage_account_set_host (self, g_value_get_string (value)); break;
    case PROP_PORT: postage_account_set_port (self, g_value_get_uint (value)); break;
    case PROP_SECURITY: postage_account_set_security (self, g_value_get_enum (value)); break;
    case PROP_USER: postage_account_set_user (self, g_value_get_string (value)); break;
    case PROP_CA_FILE: postage_account_set_ca_file (self, g_value_get_string (value)); break;
    case PROP_FINGERPRINT:
      postage_account_set_fingerprint (self, g_value_get_string (value));
      break;
    case PROP_SIZE_LIMIT:
      postage_account_set_size_limit (self, g_value_get_uint64 (value));
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
postage_account_class_init (PostageAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = postage_account_finalize;
  object_class->get_property = postage_account_get_property;
  object_class->set_property = postage_account_set_property;

#define STR_PROP(n, name) \
  properties[n] = g_param_spec_string (name, NULL, NULL, NULL, \
                                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | \
                                        G_PARAM_STATIC_STRINGS))
  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL,
                         (G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS));
  STR_PROP (PROP_DISPLAY_NAME, "display-name");
  STR_PROP (PROP_EMAIL, "email");
  STR_PROP (PROP_HOST, "host");
  STR_PROP (PROP_USER, "user");
  STR_PROP (PROP_CA_FILE, "ca-file");
  STR_PROP (PROP_FINGERPRINT, "fingerprint");
#undef STR_PROP
  properties[PROP_PORT] =
    g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 587,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_SECURITY] =
    g_param_spec_enum ("security", NULL, NULL, POSTAGE_TYPE_SECURITY, POSTAGE_SECURITY_STARTTLS,
                       (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_SIZE_LIMIT] =
    g_param_spec_uint64 ("size-limit", NULL, NULL, 0, G_MAXUINT64, 0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
postage_account_init (PostageAccount *self)
{
  self->port = 587;
  self->security = POSTAGE_SECURITY_STARTTLS;
}

PostageAccount *
postage_account_new (const char *id)
{
  g_return_val_if_fail (id != NULL, NULL);

  return g_object_new (POSTAGE_TYPE_ACCOUNT, "id", id, NULL);
}

PostageAccount *
postage_account_copy (PostageAccount *self)
{
  PostageAccount *copy;

  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), NULL);

  copy = postage_account_new (self->id);
  copy->display_name = g_strdup (self->display_name);
  copy->email = g_strdup (self->email);
  copy->host = g_strdup (self->host);
  copy->user = g_strdup (self->user);
  copy->ca_file = g_strdup (self->ca_file);
  copy->fingerprint = g_strdup (self->fingerprint);
  copy->port = self->port;
  copy->security = self->security;
  copy->size_limit = self->size_limit;
  return copy;
}

/* Setters for string properties share one shape: replace, notify on change. */
static void
set_string (PostageAccount *self,
            char          **field,
            const char     *value,
            guint           prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

const char *
postage_account_get_id (PostageAccount *self)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), NULL);
  return self->id;
}

const char *
postage_account_get_display_name (PostageAccount *self)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), NULL);
  return self->display_name;
}

void
postage_account_set_display_name (PostageAccount *self,
                                  const char     *display_name)
{
  g_return_if_fail (POSTAGE_IS_ACCOUNT (self));
  set_string (self, &self->display_name, display_name, PROP_DISPLAY_NAME);
}

const char *
postage_account_get_email (PostageAccount *self)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), NULL);
  return self->email;
}

void
postage_account_set_email (PostageAccount *self,
                           const char     *email)
{
  g_return_if_fail (POSTAGE_IS_ACCOUNT (self));
  set_string (self, &self->email, email, PROP_EMAIL);
}

const char *
postage_account_get_host (PostageAccount *self)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), NULL);
  return self->host;
}

void
postage_account_set_host (PostageAccount *self,
                          const char     *host)
{
  g_return_if_fail (POSTAGE_IS_ACCOUNT (self));
  set_string (self, &self->host, host, PROP_HOST);
}

guint16
postage_account_get_port (PostageAccount *self)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), 0);
  return self->port;
}

void
postage_account_set_port (PostageAccount *self,
                          guint16         port)
{
  g_return_if_fail (POSTAGE_IS_ACCOUNT (self));
  if (self->port == port)
    return;
  self->port = port;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PORT]);
}

PostageSecurity
postage_account_get_security (PostageAccount *self)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), POSTAGE_SECURITY_STARTTLS);
  return self->security;
}

void
postage_account_set_security (PostageAccount  *self,
                              PostageSecurity  security)
{
  g_return_if_fail (POSTAGE_IS_ACCOUNT (self));
  if (self->security == security)
    return;
  self->security = security;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SECURITY]);
}

const char *
postage_account_get_user (PostageAccount *self)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), NULL);
  return self->user != NULL ? self->user : self->email;
}

void
postage_account_set_user (PostageAccount *self,
                          const char     *user)
{
  g_return_if_fail (POSTAGE_IS_ACCOUNT (self));
  set_string (self, &self->user, user, PROP_USER);
}

const char *
postage_account_get_ca_file (PostageAccount *self)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), NULL);
  return self->ca_file;
}

void
postage_account_set_ca_file (PostageAccount *self,
                             const char     *ca_file)
{
  g_return_if_fail (POSTAGE_IS_ACCOUNT (self));
  set_string (self, &self->ca_file, ca_file != NULL && *ca_file != '\0' ? ca_file : NULL,
              PROP_CA_FILE);
}

const char *
postage_account_get_fingerprint (PostageAccount *self)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), NULL);
  return self->fingerprint;
}

void
postage_account_set_fingerprint (PostageAccount *self,
                                 const char     *fingerprint)
{
  g_autofree char *normal = NULL;

  g_return_if_fail (POSTAGE_IS_ACCOUNT (self));

  if (fingerprint != NULL && *fingerprint != '\0')
    normal = postage_fingerprint_normalize (fingerprint);
  /* Something that is not a fingerprint is kept as typed, so that
   * postage_account_validate() can point it out. */
  set_string (self, &self->fingerprint,
              normal != NULL ? normal : (fingerprint != NULL && *fingerprint != '\0'
                                         ? fingerprint : NULL),
              PROP_FINGERPRINT);
}

guint64
postage_account_get_size_limit (PostageAccount *self)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), 0);

  return self->size_limit;
}

void
postage_account_set_size_limit (PostageAccount *self,
                                guint64         size_limit)
{
  g_return_if_fail (POSTAGE_IS_ACCOUNT (self));

  if (self->size_limit == size_limit)
    return;
  self->size_limit = size_limit;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIZE_LIMIT]);
}

char *
postage_fingerprint_normalize (const char *text)
{
  GString *out = g_string_new (NULL);
  guint digits = 0;

  g_return_val_if_fail (text != NULL, NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == ':' || *p == ' ')
        continue;
      if (!g_ascii_isxdigit (*p) || digits == 64)
        return g_string_free (out, TRUE), NULL;
      if (digits > 0 && digits % 2 == 0)
        g_string_append_c (out, ':');
      g_string_append_c (out, g_ascii_toupper (*p));
      digits++;
    }
  if (digits != 64)
    return g_string_free (out, TRUE), NULL;
  return g_string_free (out, FALSE);
}

char *
postage_account_dup_from_display (PostageAccount *self)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), NULL);

  if (self->display_name == NULL || *self->display_name == '\0')
    return g_strdup (self->email != NULL ? self->email : "");
  return g_strdup_printf ("%s <%s>", self->display_name, self->email != NULL ? self->email : "");
}

static gboolean
invalid (GError    **error,
         const char *message)
{
  g_set_error_literal (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_INVALID, message);
  return FALSE;
}

gboolean
postage_account_check_ca_file (PostageAccount  *self,
                               GError         **error)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), FALSE);

  /* A FIFO would block the TLS setup forever, /dev/zero fill memory. */
  if (self->ca_file != NULL && !g_file_test (self->ca_file, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, POSTAGE_ACCOUNT_ERROR, POSTAGE_ACCOUNT_ERROR_INVALID,
                   _("The CA file %s does not exist or is not a regular file."), self->ca_file);
      return FALSE;
    }
  return TRUE;
}

gboolean
postage_account_validate (PostageAccount  *self,
                          GError         **error)
{
  g_return_val_if_fail (POSTAGE_IS_ACCOUNT (self), FALSE);

  /* The id names a file and a command-line argument: keep it simple. */
  if (self->id == NULL || *self->id == '\0' || strchr (self->id, '/') != NULL ||
      self->id[0] == '.' || has_control_chars (self->id) || !g_utf8_validate (self->id, -1, NULL))
    return invalid (error, _("The account name must not be empty, start with a dot, "
                             "or contain “/” or control characters."));
  if (self->email == NULL || !postage_address_is_valid (self->email))
    return invalid (error, _("The email address is not valid. Write it as name@example.com."));
  if (has_control_chars (self->display_name) ||
      (self->display_name != NULL && !g_utf8_validate (self->display_name, -1, NULL)))
    return invalid (error, _("The display name must not contain line breaks or "
                             "control characters."));
  if (self->host == NULL || *self->host == '\0' || !is_host_name (self->host))
    return invalid (error, _("The SMTP server name is not valid. Write a host name such as "
                             "smtp.example.com."));
  if (self->port == 0)
    return invalid (error, _("The port must be a number from 1 to 65535 (usually 587 or 465)."));
  if (self->user != NULL &&
      (has_control_chars (self->user) || !g_utf8_validate (self->user, -1, NULL)))
    return invalid (error, _("The user name must not contain line breaks or control characters."));
  if (self->fingerprint != NULL && !g_regex_match_simple ("^([0-9A-F]{2}:){31}[0-9A-F]{2}$",
                                                          self->fingerprint, 0, 0))
    return invalid (error, _("The certificate fingerprint must be a SHA-256 fingerprint: "
                             "64 hexadecimal digits, with or without colons."));
  if (self->security == POSTAGE_SECURITY_NONE && !postage_host_is_loopback (self->host))
    return invalid (error, _("An unencrypted connection is only allowed to this computer "
                             "(localhost). Choose STARTTLS or TLS."));
  return TRUE;
}
