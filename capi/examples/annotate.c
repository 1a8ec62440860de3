/*
 * annotate: prints each connection's handshake and teardown from a capture
 * file, through synack's C ABI.
 *
 *   annotate [-v] [--process] [--plugin PATH]... CAPTURE
 *
 * For every connection (in the order their verdicts come), a block of
 * `key=value` words named as the keys of `synack conns --format json`:
 *
 *   conn=0 client_ip=192.0.2.1 client_port=60354 server_ip=192.0.2.2 ...
 *     open=three-way rtt_syn_synack_us=35 ... handshake-1=1 handshake-2=2 handshake-3=3
 *     close=fin active_closer=client teardown-1=15 teardown-2=16 ...
 *     client_final_state=TIME-WAIT server_final_state=CLOSED conn_state=SF history=ShADadFf
 *     packets_c2s=10 packets_s2c=7 bytes_c2s=230 bytes_s2c=382 ...
 *     label app=http
 *
 * (`-` stands for JSON's null.) -v also prints every packet that has a
 * role; --process reads the capture with synack_capture_process instead of
 * synack_capture_next and synack_tracker_feed; --plugin loads a plugin
 * whose labels are printed.
 *
 * Build: gcc -std=c11 -Wall -Wextra -I capi/include annotate.c -lsynack
 *        (or `pkg-config --cflags --libs synack`)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synack.h"

static int verbose = 0;

/* A name, or "-" for NULL (a value JSON writes as null). */
static const char *or_dash(const char *s) { return s ? s : "-"; }

static void print_i64(const char *key, int64_t v) {
    if (v < 0)
        printf(" %s=-", key);
    else
        printf(" %s=%" PRId64, key, v);
}

static void print_addr(const char *key, const synack_endpoint *ep) {
    char buf[64];
    if (synack_endpoint_addr(ep, buf, sizeof buf) < 0)
        snprintf(buf, sizeof buf, "?");
    printf(" %s_ip=%s %s_port=%u", key, buf, key, (unsigned)ep->port);
}

/* Role frame words for the roles in [from, to]. */
static void print_roles(const synack_verdict *v, int from, int to) {
    for (int r = from; r <= to; r++)
        if (v->role_frames[r] != 0)
            printf(" %s=%" PRIu64, synack_role_name(r), v->role_frames[r]);
}

static void print_verdict(const synack_verdict *v) {
    printf("conn=%" PRIu64, v->conn);
    print_addr("client", &v->client);
    print_addr("server", &v->server);
    printf(" first_frame=%" PRIu64 " last_frame=%" PRIu64 "\n", v->first_frame, v->last_frame);

    const synack_facts *f = &v->facts;
    printf("  open=%s", synack_open_kind_name(f->open));
    print_i64("rtt_syn_synack_us", f->rtt_syn_synack_us);
    print_i64("rtt_synack_ack_us", f->rtt_synack_ack_us);
    print_i64("client_mss", f->client.mss);
    print_i64("server_mss", f->server.mss);
    print_i64("client_wscale", f->client.wscale);
    print_i64("server_wscale", f->server.wscale);
    printf(" client_sack_permitted=%s server_sack_permitted=%s",
           f->client.sack_permitted ? "true" : "false",
           f->server.sack_permitted ? "true" : "false");
    printf(" client_timestamps=%s server_timestamps=%s",
           f->client.timestamps ? "true" : "false", f->server.timestamps ? "true" : "false");
    printf(" syn_retransmissions=%" PRIu32, v->syn_retransmissions);
    print_roles(v, SYNACK_ROLE_HANDSHAKE1, SYNACK_ROLE_HANDSHAKE3);
    printf("\n");

    printf("  close=%s active_closer=%s", synack_close_kind_name(v->close),
           or_dash(synack_side_name(v->active_closer)));
    print_roles(v, SYNACK_ROLE_TEARDOWN1, SYNACK_ROLE_RESET);
    printf("\n");

    printf("  client_final_state=%s server_final_state=%s conn_state=%s history=%s%s\n",
           or_dash(synack_state_name(v->client_final_state)),
           or_dash(synack_state_name(v->server_final_state)), v->conn_state, v->history,
           v->history_truncated ? "..." : "");

    printf("  packets_c2s=%" PRIu64 " packets_s2c=%" PRIu64 " bytes_c2s=%" PRIu64
           " bytes_s2c=%" PRIu64 " completeness=%u start_ns=%" PRIu64 " end_ns=%" PRIu64 "\n",
           v->packets_c2s, v->packets_s2c, v->bytes_c2s, v->bytes_s2c,
           (unsigned)v->completeness, v->start_ns, v->end_ns);

    for (size_t i = 0; i < v->label_count; i++)
        printf("  label %s=%s\n", v->labels[i].name, v->labels[i].value);
}

/* Prints (and so releases) every verdict the tracker has ready. */
static int drain(synack_tracker *tracker) {
    synack_verdict v;
    int rc;
    while ((rc = synack_tracker_next_verdict(tracker, &v)) == 1)
        print_verdict(&v);
    if (rc < 0) {
        fprintf(stderr, "annotate: %s\n", synack_tracker_last_error(tracker));
        return -1;
    }
    return 0;
}

static void print_packet(const synack_annotation *a) {
    if (!verbose || a->role == SYNACK_ROLE_NONE)
        return;
    printf("frame=%" PRIu64 " conn=%" PRIu64 " dir=%s role=%s", a->frame_number, a->conn,
           synack_direction_name(a->direction), synack_role_name(a->role));
    if (a->reset_kind != SYNACK_RESET_KIND_NONE)
        printf(" reset_kind=%s", synack_reset_kind_name(a->reset_kind));
    for (int r = 0; r < 8; r++)
        if (a->combines & (1u << r))
            printf(" combines=%s", synack_role_name(r));
    if (a->retransmission)
        printf(" retransmission=true");
    printf(" client=%s server=%s\n", or_dash(synack_state_name(a->client_state)),
           or_dash(synack_state_name(a->server_state)));
}

struct run {
    synack_tracker *tracker;
    int failed;
};

/* The synack_capture_process callback. */
static int on_packet(void *user, const synack_packet *packet, int status,
                     const synack_annotation *annotation) {
    struct run *run = user;
    (void)packet;
    if (status == SYNACK_STATUS_OK && annotation)
        print_packet(annotation);
    else if (status < 0)
        fprintf(stderr, "annotate: warning: %s\n", synack_tracker_last_error(run->tracker));
    if (drain(run->tracker) < 0) {
        run->failed = 1;
        return 1;
    }
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: annotate [-v] [--process] [--plugin PATH]... CAPTURE\n");
    return 2;
}

int main(int argc, char **argv) {
    int use_process = 0;
    const char *path = NULL;
    const char *plugins[16];
    int nplugins = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else if (strcmp(argv[i], "--process") == 0)
            use_process = 1;
        else if (strcmp(argv[i], "--plugin") == 0 && i + 1 < argc && nplugins < 16)
            plugins[nplugins++] = argv[++i];
        else if (argv[i][0] != '-' && !path)
            path = argv[i];
        else
            return usage();
    }
    if (!path)
        return usage();
    if (synack_abi_version() != SYNACK_ABI_VERSION) {
        fprintf(stderr, "annotate: libsynack ABI %u, built for %u\n", synack_abi_version(),
                (unsigned)SYNACK_ABI_VERSION);
        return 1;
    }

    synack_tracker_config config;
    synack_tracker_config_default(&config);
    synack_tracker *tracker = synack_tracker_new(&config);
    if (!tracker) {
        fprintf(stderr, "annotate: %s\n", synack_last_error());
        return 1;
    }
    for (int i = 0; i < nplugins; i++) {
        if (synack_tracker_add_plugin(tracker, plugins[i]) != SYNACK_STATUS_OK) {
            fprintf(stderr, "annotate: %s\n", synack_tracker_last_error(tracker));
            synack_tracker_free(tracker);
            return 1;
        }
    }
    synack_capture *capture = synack_capture_open(path);
    if (!capture) {
        fprintf(stderr, "annotate: %s\n", synack_last_error());
        synack_tracker_free(tracker);
        return 1;
    }

    int failed = 0;
    if (use_process) {
        struct run run = {tracker, 0};
        int rc = synack_capture_process(capture, tracker, on_packet, &run);
        if (rc < 0) {
            fprintf(stderr, "annotate: %s\n", synack_capture_last_error(capture));
            failed = 1;
        }
        failed |= run.failed;
    } else {
        synack_packet packet;
        synack_annotation annotation;
        int rc;
        while ((rc = synack_capture_next(capture, &packet)) == 1) {
            int st = synack_tracker_feed(tracker, packet.link_type, packet.ts_ns,
                                         packet.frame_number, packet.data, packet.len,
                                         &annotation);
            if (st == SYNACK_STATUS_OK)
                print_packet(&annotation);
            else if (st < 0)
                fprintf(stderr, "annotate: warning: %s\n", synack_tracker_last_error(tracker));
            if (drain(tracker) < 0) {
                failed = 1;
                break;
            }
        }
        if (rc < 0) {
            fprintf(stderr, "annotate: %s\n", synack_capture_last_error(capture));
            failed = 1;
        }
    }

    synack_tracker_finish(tracker);
    if (drain(tracker) < 0)
        failed = 1;
    synack_capture_free(capture);
    synack_tracker_free(tracker);
    return failed;
}
