/*
 * compose — build outgoing mail as a GMimeMessage and serialize it.
 *
 * PURPOSE
 *   Turn a plain ComposeMessage (addresses, subject, text and optional HTML
 *   body, threading ids, loop-prevention markers, extra headers from a
 *   template) into a real MIME message:
 *     - Subject and display names RFC 2047-encoded where needed; GMime folds
 *       the encoded words and never splits a multibyte character (tested).
 *     - text/plain; charset=utf-8, quoted-printable (the default), or
 *       text/plain; charset=ISO-2022-JP, 7bit (COMPOSE_CHARSET_ISO2022JP, for
 *       recipients whose clients or carriers need it).  Text that ISO-2022-JP
 *       cannot hold (emoji, rare kanji) falls back to UTF-8 for the whole
 *       message rather than losing characters.
 *     - multipart/alternative with a UTF-8 text/html part when html is set.
 *     - Date, Message-ID, In-Reply-To, References, Auto-Submitted:
 *       auto-replied (when auto_submitted), X-Loop, MIME-Version.
 *
 * PUBLIC FUNCTIONS
 *   compose_message_build()      ComposeMessage -> GMimeMessage
 *   compose_message_serialize()  GMimeMessage -> bytes (LF or CRLF)
 *   compose_message_to_bytes()   both in one call
 *   compose_header_sanitize()    the header-value cleaning used by all of them
 *   compose_header_owned()       is this a header the composer sets itself?
 *
 * DIAGNOSTICS
 *   COMPOSE_ERROR_INVALID for a missing or malformed From/To address, a header
 *   name that is not a token, or an extra header that the composer owns
 *   (From, To, Date, Message-ID, Content-Type, …).  Nothing else fails.
 *
 * OWNERSHIP
 *   Every input is borrowed for the duration of the call; results are
 *   (transfer full).  The functions call g_mime_init() themselves (it is
 *   reference-counted and cheap after the first call).
 *
 * SECURITY
 *   Header values come from customers' mail (subjects, names) and from
 *   templates.  Every value passes compose_header_sanitize() before GMime sees
 *   it: CR, LF and every other control character become a space, so no value
 *   can start a new header.  Addresses are checked for a single '@' and no
 *   spaces, controls or angle brackets; message ids must look like <x@y>.
 */
#pragma once

#include <glib.h>
#include <gmime/gmime.h>

G_BEGIN_DECLS

#define COMPOSE_ERROR (compose_error_quark())
GQuark compose_error_quark(void);

typedef enum {
  COMPOSE_ERROR_INVALID,
} ComposeError;

typedef enum {
  COMPOSE_CHARSET_UTF8,       /* text/plain; charset=utf-8; quoted-printable */
  COMPOSE_CHARSET_ISO2022JP,  /* text/plain; charset=ISO-2022-JP; 7bit */
} ComposeCharset;

typedef struct {
  const char *name;           /* display name, UTF-8, may be NULL */
  const char *address;        /* addr-spec: local@domain */
} ComposeMailbox;

typedef struct {
  const char *name;           /* field name, e.g. "X-Ticket" */
  const char *value;          /* UTF-8; encoded per RFC 2047 if not ASCII */
} ComposeHeader;

typedef struct {
  ComposeMailbox from;                /* required */
  const char *reply_to;               /* address (e.g. the signed plus-address) or NULL */
  const ComposeMailbox *to;           /* at least one */
  gsize n_to;
  const ComposeMailbox *cc;
  gsize n_cc;
  const char *subject;                /* UTF-8; NULL = empty */
  const char *text;                   /* UTF-8 body; NULL = empty */
  const char *html;                   /* optional UTF-8 HTML alternative */
  const char *message_id;             /* "<id@domain>" (see message_id.h); NULL = GMime makes one */
  const char *in_reply_to;            /* "<id@domain>" or NULL */
  const char *const *references;      /* NULL-terminated "<id>" list, or NULL */
  gboolean auto_submitted;            /* adds "Auto-Submitted: auto-replied" */
  const char *x_loop;                 /* X-Loop value (our support address) or NULL */
  const ComposeHeader *headers;       /* extra headers, e.g. from the template */
  gsize n_headers;
  ComposeCharset charset;
  GDateTime *date;                    /* NULL = now */
} ComposeMessage;

/* Returns (transfer full) the message, or NULL and @error. */
GMimeMessage *compose_message_build(const ComposeMessage *m, GError **error);

/* Serialize @msg with LF line ends, or CRLF if @crlf (for SMTP DATA).
 * Returns (transfer full). */
GBytes *compose_message_serialize(GMimeMessage *msg, gboolean crlf);

/* compose_message_build() + compose_message_serialize(). (transfer full) */
GBytes *compose_message_to_bytes(const ComposeMessage *m, gboolean crlf, GError **error);

/* Returns (transfer full) @value as valid UTF-8 with every control character
 * (C0 incl. CR/LF/TAB, DEL, C1, U+2028/2029) replaced by a space, runs of
 * blanks collapsed and both ends trimmed.  NULL gives "". */
char *compose_header_sanitize(const char *value);

/* TRUE for headers the composer sets itself (From, To, Subject, Date,
 * Message-ID, Content-*, …): templates may not set them as extra headers. */
gboolean compose_header_owned(const char *name);

G_END_DECLS
