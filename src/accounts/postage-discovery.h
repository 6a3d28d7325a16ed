/* postage-discovery.h — from an email address to submission settings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * In order: the provider list; DNS SRV (RFC 6186, RFC 8314 §5.1:
 * _submissions._tcp before _submission._tcp); the domain's MX records mapped
 * to a known provider; a guess (smtp.<domain>, 587, STARTTLS). DNS answers
 * can be spoofed, so the result is always shown for confirmation before any
 * password is sent. Start on the thread whose main context gets the result.
 */
#pragma once

#include <gio/gio.h>

#include "postage-providers.h"

G_BEGIN_DECLS

typedef enum {
  POSTAGE_DISCOVERY_PROVIDER, /* from the list */
  POSTAGE_DISCOVERY_SRV,      /* from DNS SRV records */
  POSTAGE_DISCOVERY_MX,       /* the MX belongs to a listed provider */
  POSTAGE_DISCOVERY_GUESS,    /* smtp.<domain>, nothing confirmed it */
} PostageDiscoverySource;

typedef struct {
  PostageDiscoverySource  source;
  const PostageProvider  *provider; /* borrowed from the PostageProviders; NULL for SRV/GUESS */
  char                   *host;
  guint16                 port;
  PostageSecurity         security;
  char                   *user;     /* suggested sign-in name */
} PostageDiscoveryResult;

void                    postage_discovery_result_free (PostageDiscoveryResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PostageDiscoveryResult, postage_discovery_result_free)

/* @resolver: NULL for g_resolver_get_default(). @providers must outlive the
 * call. Never fails except by cancellation (G_IO_ERROR_CANCELLED) or when
 * @email has no usable domain (G_IO_ERROR_INVALID_ARGUMENT): the last resort
 * is the guess. DNS failures only move on to the next source. */
void                    postage_discovery_lookup_async  (const char          *email,
                                                         PostageProviders    *providers,
                                                         GResolver           *resolver,
                                                         GCancellable        *cancellable,
                                                         GAsyncReadyCallback  callback,
                                                         gpointer             user_data);
PostageDiscoveryResult *postage_discovery_lookup_finish (GAsyncResult        *result,
                                                         GError             **error);

G_END_DECLS
