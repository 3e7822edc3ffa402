/* net_module.h - the network clients, loaded by the commands that use them.
 *
 * WHY: libetpan (the IMAP and SMTP clients) and libmicrohttpd (the
 * metrics endpoint) bring GnuTLS, Cyrus SASL and Berkeley DB: 11 of the
 * 33 shared libraries `ticketgate` mapped, every one linked BIND_NOW by
 * Debian, so the dynamic loader resolved all their symbols before main().
 * That was 2.9 ms of the 8 ms a `deliver` process costs (perf stat of an
 * empty main() linked both ways), for code `deliver` never runs.  So that
 * code lives in ticketgate-net.so, which `serve`, `fetch` and `spool
 * flush` load on first use, as Dovecot loads its plugins.  The binary
 * exports its own symbols (ENABLE_EXPORTS) for the module to call back.
 *
 * Where: next to the binary (the build tree), else ../lib/ticketgate/
 * relative to it (the installed layout, whatever the prefix).
 */
#ifndef TG_NET_MODULE_H
#define TG_NET_MODULE_H

#include "gateway/config.h"
#include "gateway/imap_poll.h"
#include "gateway/imap_poller.h"
#include "gateway/metrics_http.h"
#include "gateway/smtp_send.h"

/* Bumped with every change to TgNetOps.  With the version and the sizes of
 * the structures the two sides share, a module from another build (say,
 * mid-upgrade) is refused, not called. */
#define TG_NET_ABI 2
#define TG_NET_MODULE_FILE "ticketgate-net.so"
#define TG_NET_MODULE_SYMBOL "tg_net_module_ops"

#define TG_NET_SHARED_SIZES                                                  \
  { sizeof(TgConfig), sizeof(TgImapPoll), sizeof(TgImapAccount),             \
    sizeof(TgSmtpTarget) }

typedef struct {
  guint abi;
  gsize size; /* sizeof (TgNetOps) in the module */
  const char *version; /* TG_VERSION */
  gsize shared_sizes[4]; /* TG_NET_SHARED_SIZES */
  TgImapPoller *(*imap_poller_start)(const TgConfig *cfg);
  void (*imap_poller_stop)(TgImapPoller *poller);
  /* Connects to ACCOUNT, polls its folders, disconnects. */
  gboolean (*imap_fetch_account)(TgImapPoll *poll, const TgImapAccount *account,
                                 TgImapPollStats *stats, GError **error);
  TgMetricsHttp *(*metrics_http_start)(const TgConfig *cfg, const char *listen,
                                       GError **error);
  void (*metrics_http_stop)(TgMetricsHttp *m);
  gboolean (*smtp_send)(const TgSmtpTarget *t, const char *from, const char *rcpt,
                        GBytes *message, char **reply_r, GError **error);
} TgNetOps;

#define TG_NET_ERROR (tg_net_error_quark())
GQuark tg_net_error_quark(void);

/* Whether CFG uses the module: IMAP accounts, a metrics listener or a
 * smarthost (what `serve` loads it for, and `check` looks for). */
gboolean tg_net_needed(const TgConfig *cfg);

/* The module's operations, loaded on the first call (thread-safe); NULL
 * with an error naming every place looked in when it cannot be loaded.
 * The failure is remembered: later calls return it again. */
const TgNetOps *tg_net(GError **error);

#endif
