/* A test plugin built for a plugin ABI version synack does not host. */
#include <stddef.h>

#include "synack.h"

static const synack_plugin_descriptor descriptor = {
    .abi_version = SYNACK_PLUGIN_ABI_VERSION + 98,
    .name = "from-the-future",
    .description = NULL,
    .on_open = NULL,
    .on_payload = NULL,
    .on_close = NULL,
};

const synack_plugin_descriptor *synack_plugin_descriptor_v1(void) { return &descriptor; }
