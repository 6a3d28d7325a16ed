/* postage-account.h — one SMTP submission account, with no secret in it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A PostageAccount is a plain bag of properties. It is created and changed on the
 * main thread; the SMTP job snapshots what it needs, so the worker never sees it.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define POSTAGE_ACCOUNT_ERROR (postage_account_error_quark ())

typedef enum {
  POSTAGE_ACCOUNT_ERROR_INVALID,     /* a field is missing or malformed */
  POSTAGE_ACCOUNT_ERROR_NOT_FOUND,   /* no account with that name */
  POSTAGE_ACCOUNT_ERROR_EXISTS,      /* an account with that name exists */
  POSTAGE_ACCOUNT_ERROR_IO,          /* the keyfile could not be read or written */
  POSTAGE_ACCOUNT_ERROR_NO_KEYRING,  /* no Secret Service, or it is locked */
  POSTAGE_ACCOUNT_ERROR_NO_PASSWORD, /* the keyring has no password for the account */
} PostageAccountError;

GQuark postage_account_error_quark (void);

typedef enum {
  POSTAGE_SECURITY_STARTTLS, /* port 587: plain connect, STARTTLS required */
  POSTAGE_SECURITY_TLS,      /* port 465: TLS from the first byte (RFC 8314) */
  POSTAGE_SECURITY_NONE,     /* cleartext: only ever allowed to a loopback host */
} PostageSecurity;

#define POSTAGE_TYPE_SECURITY (postage_security_get_type ())
GType        postage_security_get_type     (void) G_GNUC_CONST;
const char  *postage_security_to_string    (PostageSecurity  security);
gboolean     postage_security_from_string  (const char      *text,
                                            PostageSecurity *out_security);
guint16      postage_security_default_port (PostageSecurity  security);

gboolean     postage_host_is_loopback      (const char      *host);

#define POSTAGE_TYPE_ACCOUNT (postage_account_get_type ())
G_DECLARE_FINAL_TYPE (PostageAccount, postage_account, POSTAGE, ACCOUNT, GObject)

PostageAccount  *postage_account_new              (const char      *id);
PostageAccount  *postage_account_copy             (PostageAccount  *self);
const char      *postage_account_get_id           (PostageAccount  *self);
const char      *postage_account_get_display_name (PostageAccount  *self);
void             postage_account_set_display_name (PostageAccount  *self,
                                                   const char      *display_name);
const char      *postage_account_get_email        (PostageAccount  *self);
void             postage_account_set_email        (PostageAccount  *self,
                                                   const char      *email);
const char      *postage_account_get_host         (PostageAccount  *self);
void             postage_account_set_host         (PostageAccount  *self,
                                                   const char      *host);
guint16          postage_account_get_port         (PostageAccount  *self);
void             postage_account_set_port         (PostageAccount  *self,
                                                   guint16          port);
PostageSecurity  postage_account_get_security     (PostageAccount  *self);
void             postage_account_set_security     (PostageAccount  *self,
                                                   PostageSecurity  security);
/* The AUTH user name; falls back to the email address when unset. */
const char      *postage_account_get_user         (PostageAccount  *self);
void             postage_account_set_user         (PostageAccount  *self,
                                                   const char      *user);
const char      *postage_account_get_ca_file      (PostageAccount  *self);
void             postage_account_set_ca_file      (PostageAccount  *self,
                                                   const char      *ca_file);
/* A pinned SHA-256 certificate fingerprint ("AB:CD:…"): when set, exactly
 * that server certificate is trusted, whoever issued it. */
const char      *postage_account_get_fingerprint  (PostageAccount  *self);
void             postage_account_set_fingerprint  (PostageAccount  *self,
                                                   const char      *fingerprint);
/* The largest message the server said it takes (EHLO SIZE, RFC 1870), as
 * learnt by the last session that reached it; 0 when not known. */
guint64          postage_account_get_size_limit   (PostageAccount  *self);
void             postage_account_set_size_limit   (PostageAccount  *self,
                                                   guint64          size_limit);
/* "ab cd…", "abcd…" or "AB:CD:…" → "AB:CD:…"; NULL when not 32 bytes of hex. */
char            *postage_fingerprint_normalize    (const char      *text);
/* "Name <address>", or the address alone; for display only. */
char            *postage_account_dup_from_display (PostageAccount  *self);

/* Checks every field, before anything is saved or sent. Raises
 * POSTAGE_ACCOUNT_ERROR_INVALID with a sentence that names the field. */
gboolean         postage_account_validate         (PostageAccount  *self,
                                                   GError         **error);

/* The CA file exists and is a regular file. Not part of validate(): an
 * account whose CA file went away must still load, to be fixed. */
gboolean         postage_account_check_ca_file    (PostageAccount  *self,
                                                   GError         **error);

G_END_DECLS
