/* postage-providers.h — the mail providers Postage knows by name
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Read from data/providers.ini (a GKeyFile whose translatable values are
 * merged by gettext at build time). Immutable once loaded; any thread.
 */
#pragma once

#include "postage-account.h"

G_BEGIN_DECLS

typedef enum {
  POSTAGE_PROVIDER_USER_EMAIL,      /* the whole address */
  POSTAGE_PROVIDER_USER_LOCAL_PART, /* what comes before the @ */
} PostageProviderUserForm;

typedef struct {
  char                    *id;                 /* "icloud" */
  char                    *name;               /* "iCloud Mail", translated */
  GStrv                    domains;            /* icloud.com, me.com, mac.com */
  GStrv                    mx_suffixes;        /* MX hosts that mean this provider */
  char                    *host;
  guint16                  port;
  PostageSecurity          security;
  PostageProviderUserForm  user_form;
  gboolean                 app_password;       /* an app-specific password is required */
  char                    *app_password_url;   /* where it is created, or NULL */
  GStrv                    steps;              /* 2–3 short steps, translated */
  char                    *no_password_login;  /* non-NULL: password sign-in is not
                                                * possible at all; says why, translated */
  gboolean                 pin_certificate;    /* uses its own certificate (Proton Bridge) */
} PostageProvider;

typedef struct _PostageProviders PostageProviders;

/* The list shipped with Postage. Errors: G_FILE_ERROR, G_KEY_FILE_ERROR. */
PostageProviders      *postage_providers_load_default (GError                **error);
PostageProviders      *postage_providers_load_file    (const char             *path,
                                                       GError                **error);
void                   postage_providers_free         (PostageProviders       *providers);
guint                  postage_providers_get_n_items  (PostageProviders       *providers);
const PostageProvider *postage_providers_get_item     (PostageProviders       *providers,
                                                       guint                   position);
/* By the domain of an email address (case-insensitive), or NULL. */
const PostageProvider *postage_providers_lookup_domain (PostageProviders      *providers,
                                                        const char            *domain);
/* By an MX host name ("alt1.aspmx.l.google.com" → Gmail), or NULL. */
const PostageProvider *postage_providers_lookup_mx    (PostageProviders       *providers,
                                                       const char             *mx_host);
/* The user name this provider expects for @email. */
char                  *postage_provider_dup_user      (const PostageProvider  *provider,
                                                       const char             *email);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageProviders, postage_providers_free)

G_END_DECLS
