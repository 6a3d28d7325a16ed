/* postage-smtp-job-private.h — the job's snapshot, read by the session
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Filled on the calling thread before the job starts; read-only afterwards,
 * except the password, which the worker clears when it is done with it, and
 * size_limit, which the worker sets and the caller reads once the job has
 * ended (the task's completion orders the two).
 */
#pragma once

#include "postage-smtp-job.h"

G_BEGIN_DECLS

struct _PostageSmtpJob
{
  gint             ref_count;

  char            *host;
  guint16          port;
  PostageSecurity  security;
  char            *user;       /* "" = no AUTH */
  char            *ca_file;
  char            *fingerprint; /* pinned certificate, or NULL */
  char            *password;   /* NULL = read the keyring just before AUTH */
  guint            timeout;

  char            *sender;     /* NULL = verify only */
  GPtrArray       *recipients;
  char            *path;       /* the message file, streamed at DATA */
  guint64          size;
  gboolean         eight_bit;

  PostageSmtpHookFunc before_final_dot;
  PostageSmtpHookFunc accepted;
  gpointer         hook_data;
  GDestroyNotify   hook_data_free;

  guint64          size_limit; /* EHLO SIZE seen by the session; 0 = none */
};

G_END_DECLS
