/* net_module_ops.c - the one symbol ticketgate-net.so exports
 * (net_module.h); built into the module only. */
#include "gateway/imap_conn.h"
#include "gateway/net_module.h"

static gboolean fetch_account(TgImapPoll *poll, const TgImapAccount *account,
                              TgImapPollStats *stats, GError **error) {
  g_autoptr(TgImapConn) conn = tg_imap_conn_open(account, error);
  return conn && tg_imap_poll_account(poll, conn, stats, error);
}

__attribute__((visibility("default"))) const TgNetOps tg_net_module_ops = {
    .abi = TG_NET_ABI,
    .size = sizeof(TgNetOps),
    .version = TG_VERSION,
    .shared_sizes = TG_NET_SHARED_SIZES,
    .imap_poller_start = tg_imap_poller_start,
    .imap_poller_stop = tg_imap_poller_stop,
    .imap_fetch_account = fetch_account,
    .metrics_http_start = tg_metrics_http_start,
    .metrics_http_stop = tg_metrics_http_stop,
    .smtp_send = tg_smtp_send,
};
