/* smtp_session.h - one SMTP or LMTP conversation as a state machine,
 * without sockets.
 *
 * The host (smtp_server.c, a unit test, a fuzz harness) feeds the bytes it
 * read with tg_smtp_session_feed() and receives the replies through
 * ops->send.  Message storage is behind ops->msg_*: the session never
 * touches the spool, so it can be driven with arbitrary bytes in memory.
 *
 * Life of a message: DATA calls ops->msg_begin (may refuse: 451/452);
 * every body line, dot-unstuffed and with CRLF turned into LF, goes to
 * ops->msg_write; the final dot calls ops->msg_end and the session waits
 * (no input is processed) until the host calls
 * tg_smtp_session_message_done() with the outcome, possibly much later
 * (after the group commit).  Only then is 250 (LMTP: one 250 per
 * recipient) or the error reply sent.  A message that ends in any other
 * way (over the size limit, a write error, disconnect, timeout, free)
 * is handed to ops->msg_abort and leaves no trace.
 *
 * Lines: commands end at LF (an optional CR before it is dropped); a
 * command longer than max_line, or a partial line longer than that,
 * answers 500 5.5.0 and closes.  Body lines have no length limit: a long
 * one is passed on in pieces.  A bare CR is data.  NUL in a command is a
 * syntax error; NUL in the body is data (the spool is length-prefixed).
 *
 * Ownership: the session borrows CFG's strings and OPS; the host keeps
 * them alive.  tg_smtp_session_free() must not be called from inside an
 * ops callback: the host marks its connection closing and frees it from
 * the main loop.
 *
 * SECURITY: every input is peer data.  Reads are bounded by max_line;
 * command counts, errors and recipients are bounded; input buffered after
 * STARTTLS is thrown away (no command injection across the handshake).
 * The end of DATA is a line holding only "." terminated by CRLF or a bare
 * LF; we are a final destination, not a relay, so this cannot be used to
 * smuggle a message past a filter of ours.
 */
#ifndef TG_SMTP_SESSION_H
#define TG_SMTP_SESSION_H

#include "gateway/smtp_error.h"

#include <glib.h>

typedef enum {
  TG_SMTP_PROTO_SMTP,
  TG_SMTP_PROTO_LMTP,
} TgSmtpProto;

typedef struct {
  const char *hostname;      /* greeting and EHLO name */
  char *const *addresses;    /* support addresses accepted at RCPT */
  guint max_line;            /* bytes per command line, CRLF included */
  guint max_recipients;      /* per message */
  guint max_commands;        /* non-transaction commands between MAILs */
  guint max_errors;          /* error replies per session, then 421 */
  guint64 message_size;      /* body bytes; over it: 552 */
  gboolean tls_available;    /* advertise and accept STARTTLS */
} TgSmtpSessionConfig;

typedef struct {
  /* Reply bytes for the peer (one or more CRLF-terminated lines). */
  void (*send)(gpointer user, const char *data, gsize len);
  /* Starts storing a message; returns a handle, or NULL with *ERR_R set. */
  gpointer (*msg_begin)(gpointer user, const char *sender,
                        const char *const *recipients, TgSmtpError *err_r);
  /* Appends body bytes; returns TG_SMTP_OK or the failure. */
  TgSmtpError (*msg_write)(gpointer user, gpointer msg, const char *data,
                           gsize len);
  /* The body is complete: make it durable, then call
   * tg_smtp_session_message_done().  Takes MSG. */
  void (*msg_end)(gpointer user, gpointer msg);
  /* Throws MSG away.  Takes MSG. */
  void (*msg_abort)(gpointer user, gpointer msg);
  /* 220 to STARTTLS is queued: flush it, handshake, then call
   * tg_smtp_session_tls_done().  May be NULL when tls_available is FALSE. */
  void (*starttls)(gpointer user);
} TgSmtpSessionOps;

typedef struct TgSmtpSession TgSmtpSession;

/* (transfer full) CLIENT is the peer address, for logs and Received. */
TgSmtpSession *tg_smtp_session_new(TgSmtpProto proto,
                                   const TgSmtpSessionConfig *cfg,
                                   const char *client,
                                   const TgSmtpSessionOps *ops, gpointer user);
void tg_smtp_session_free(TgSmtpSession *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TgSmtpSession, tg_smtp_session_free)

/* Sends the 220 greeting. */
void tg_smtp_session_start(TgSmtpSession *s);
/* Takes LEN bytes from the peer and acts on every complete line. */
void tg_smtp_session_feed(TgSmtpSession *s, const char *data, gsize len);
/* The outcome of the message given to ops->msg_end; QUEUE_ID names it in
 * the 250 reply (may be NULL on error). */
void tg_smtp_session_message_done(TgSmtpSession *s, TgSmtpError err,
                                  const char *queue_id);
/* The TLS handshake finished (OK) or failed.  On success the session
 * starts over (RFC 3207: forget HELO); on failure it closes. */
void tg_smtp_session_tls_done(TgSmtpSession *s, gboolean ok);
/* Ends the session with ERR's 421 (timeout, shutdown).  A message waiting
 * for message_done() is answered first; a message in DATA is aborted. */
void tg_smtp_session_close_with(TgSmtpSession *s, TgSmtpError err);
/* The peer went away: abort any message being received. */
void tg_smtp_session_disconnected(TgSmtpSession *s);

/* TRUE once the session is over: flush the output, then close. */
gboolean tg_smtp_session_closing(const TgSmtpSession *s);
/* FALSE while waiting for message_done(), tls_done() or when closing:
 * the host should not read more from the peer then. */
gboolean tg_smtp_session_wants_input(const TgSmtpSession *s);
/* TRUE while a message body is being received. */
gboolean tg_smtp_session_in_data(const TgSmtpSession *s);
/* TRUE after a successful tls_done(). */
gboolean tg_smtp_session_tls_active(const TgSmtpSession *s);
guint tg_smtp_session_messages(const TgSmtpSession *s);

#endif
