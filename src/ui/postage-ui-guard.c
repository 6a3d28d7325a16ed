/* postage-ui-guard.c — finding a widget again from an async callback
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "postage-ui-private.h"

struct _PostageUiGuard
{
  GWeakRef      widget;
  GCancellable *cancellable;        /* the one current when the guard was made */
  glong         cancellable_offset; /* of the widget's GCancellable * member */
};

static GCancellable *
current_cancellable (gpointer widget,
                     glong    cancellable_offset)
{
  return G_STRUCT_MEMBER (GCancellable *, widget, cancellable_offset);
}

PostageUiGuard *
_postage_ui_guard_new (gpointer widget,
                       glong    cancellable_offset)
{
  PostageUiGuard *guard = g_new0 (PostageUiGuard, 1);

  g_weak_ref_init (&guard->widget, widget);
  guard->cancellable = g_object_ref (current_cancellable (widget, cancellable_offset));
  guard->cancellable_offset = cancellable_offset;

  return guard;
}

void
_postage_ui_guard_free (gpointer data)
{
  PostageUiGuard *guard = data;

  g_weak_ref_clear (&guard->widget);
  g_clear_object (&guard->cancellable);
  g_free (guard);
}

gpointer
_postage_ui_guard_dup (PostageUiGuard *guard)
{
  GObject *widget = g_weak_ref_get (&guard->widget);

  if (widget != NULL &&
      current_cancellable (widget, guard->cancellable_offset) != guard->cancellable)
    g_clear_object (&widget);

  return widget;
}
