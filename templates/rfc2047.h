/*
 * rfc2047 — encode and fold header values for outgoing mail.
 *
 * PURPOSE
 *   Produce a header value in GMime's raw form (" value\n", continuation
 *   lines starting with a space) whose lines stay within 76 columns, with
 *   non-ASCII text as RFC 2047 "B" encoded words of at most 75 characters.
 *   Words are cut between characters, never inside one; in ISO-2022-JP every
 *   word is converted on its own, so it starts and ends in ASCII and decodes
 *   alone.  GMime 3.2's own encoder writes words of 150+ characters and uses
 *   "Q" for ISO-2022-JP, which older Japanese clients handle badly.
 *
 * PUBLIC FUNCTIONS
 *   rfc2047_fold_new() / rfc2047_fold_free()   a folded value being built
 *   rfc2047_fold_text()      append unstructured text (Subject, X-*)
 *   rfc2047_fold_mailbox()   append "name <address>" (name as a phrase)
 *   rfc2047_fold_finish()    the raw value, (transfer full)
 *
 * Nothing fails: the caller passes sanitized UTF-8 (compose_header_sanitize)
 * and checked addresses.  A character the charset cannot hold is written as a
 * UTF-8 word instead.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _Rfc2047Fold Rfc2047Fold;

/* @name_len: length of the field name ("Subject" = 7), which shares the first
 * line.  @charset: "utf-8" or "iso-2022-jp" for encoded words. */
Rfc2047Fold *rfc2047_fold_new(gsize name_len, const char *charset);
void rfc2047_fold_free(Rfc2047Fold *fold);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Rfc2047Fold, rfc2047_fold_free)

void rfc2047_fold_text(Rfc2047Fold *fold, const char *text);

/* Appends ", " first if a mailbox was already added.  @name may be NULL. */
void rfc2047_fold_mailbox(Rfc2047Fold *fold, const char *name, const char *address);

/* Returns (transfer full) " value\n" with "\n " folds. */
char *rfc2047_fold_finish(Rfc2047Fold *fold);

G_END_DECLS
