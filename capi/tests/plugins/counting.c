/*
 * A test plugin: labels each connection with its server port and the
 * payload bytes seen each way, and keeps count of the states it holds so a
 * test can check that every on_open is matched by an on_close.
 */
#include <stdio.h>
#include <stdlib.h>

#include "synack.h"

struct conn {
    unsigned long long conn;
    unsigned server_port;
    size_t bytes[2];
};

static long live_states;

/* For the test: states opened and not yet closed. */
long counting_live_states(void) { return live_states; }

static int on_open(uint64_t conn, const synack_endpoint *client, const synack_endpoint *server,
                   void **state) {
    (void)client;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return 1;
    c->conn = conn;
    c->server_port = server->port;
    *state = c;
    live_states++;
    return 0;
}

static int on_payload(void *state, synack_direction direction, const uint8_t *data, size_t len) {
    struct conn *c = state;
    (void)data;
    c->bytes[direction == SYNACK_DIRECTION_S2C] += len;
    return 0;
}

static void on_close(void *state, const synack_label_sink *sink) {
    struct conn *c = state;
    char buf[64];
    snprintf(buf, sizeof buf, "%u", c->server_port);
    sink->add(sink->ctx, "test.server_port", buf);
    snprintf(buf, sizeof buf, "%zu/%zu", c->bytes[0], c->bytes[1]);
    sink->add(sink->ctx, "test.payload", buf);
    free(c);
    live_states--;
}

static const synack_plugin_descriptor descriptor = {
    .abi_version = SYNACK_PLUGIN_ABI_VERSION,
    .name = "counting",
    .description = "test plugin: server port and payload bytes",
    .on_open = on_open,
    .on_payload = on_payload,
    .on_close = on_close,
};

const synack_plugin_descriptor *synack_plugin_descriptor_v1(void) { return &descriptor; }
