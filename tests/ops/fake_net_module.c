/* fake_net_module.c - a ticketgate-net.so from "another build": the right
 * symbol and ABI number, another version (tests/ops/net_module.sh). */
#include "gateway/net_module.h"

__attribute__((visibility("default"))) const TgNetOps tg_net_module_ops = {
    .abi = TG_NET_ABI,
    .size = sizeof(TgNetOps),
    .version = "0.0.0-another-build",
    .shared_sizes = TG_NET_SHARED_SIZES,
};
