/* packet-synack.c: the synack postdissector for Wireshark 4.0.
 *
 * A thin layer over libsynack (the C ABI of synack, capi/include/synack.h):
 * every frame's raw bytes, pcap link type, timestamp and number go to one
 * synack tracker per capture file, in frame order, on the first pass only.
 * What the tracker says (role, connection, direction, both endpoints'
 * states, warnings, the connection's facts) is cached per frame and shown
 * from the cache on every later pass (tshark -2, re-dissection in the GUI),
 * so the tracker sees each frame exactly once.
 *
 * Build: plugins/wireshark/build.sh (see docs/wireshark.md).
 *
 * SPDX-License-Identifier: MIT OR Apache-2.0
 */

#include <string.h>

#include <glib.h>

#include <epan/packet.h>
#include <epan/expert.h>
#include <wiretap/wtap.h>
#include <wiretap/pcap-encap.h>
#include <ws_version.h>

#include "synack.h"

/* Only these four symbols leave the shared object (-fvisibility=hidden and
 * the version script synack.map); everything of libsynack stays inside. */
#define SYNACK_EXPORT __attribute__((visibility("default")))

#ifndef SYNACK_PLUGIN_VERSION
#define SYNACK_PLUGIN_VERSION "0.1.0"
#endif

SYNACK_EXPORT const gchar plugin_version[] = SYNACK_PLUGIN_VERSION;
SYNACK_EXPORT const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
SYNACK_EXPORT const int plugin_want_minor = WIRESHARK_VERSION_MINOR;
SYNACK_EXPORT void plugin_register(void);

/* Roles are also the bit numbers of synack_annotation::combines. */
#define ROLE_COUNT 8
#define ROLE_BIT(role) (1u << (role))
#define TEARDOWN_ROLES (ROLE_BIT(SYNACK_ROLE_TEARDOWN1) | ROLE_BIT(SYNACK_ROLE_TEARDOWN2) | \
                        ROLE_BIT(SYNACK_ROLE_TEARDOWN3) | ROLE_BIT(SYNACK_ROLE_TEARDOWN4))

/* synack_tracker_feed's success, SYNACK_STATUS_OK (0); synack.h does not
 * define the synack_status constants (yet). */
#define FEED_OK 0

/* Warning bits of synack_annotation::warnings (synack_warning_name(bit)). */
#define WARNING_COUNT 11

static int proto_synack = -1;

static int hf_synack_role = -1;
static int hf_synack_combines = -1;
static int hf_synack_reset_kind = -1;
static int hf_synack_retransmission = -1;
static int hf_synack_conn = -1;
static int hf_synack_dir = -1;
static int hf_synack_client_state = -1;
static int hf_synack_server_state = -1;
static int hf_synack_warning = -1;
static int hf_synack_open = -1;
static int hf_synack_rtt_syn_synack = -1;
static int hf_synack_rtt_synack_ack = -1;
static int hf_synack_client_mss = -1;
static int hf_synack_server_mss = -1;
static int hf_synack_client_wscale = -1;
static int hf_synack_server_wscale = -1;
static int hf_synack_close = -1;
static int hf_synack_active_closer = -1;

static gint ett_synack = -1;
static gint ett_synack_facts = -1;

static expert_field ei_synack_refused = EI_INIT;
static expert_field ei_synack_retransmission = EI_INIT;
static expert_field ei_synack_warning[WARNING_COUNT] = {
    EI_INIT, EI_INIT, EI_INIT, EI_INIT, EI_INIT, EI_INIT,
    EI_INIT, EI_INIT, EI_INIT, EI_INIT, EI_INIT,
};

/* Which facts a frame shows: each fact is shown on the frame where it
 * becomes known or changes, so the last one shown for a connection is its
 * verdict's. */
enum {
    SHOW_OPEN = 1 << 0,
    SHOW_RTT_SYN_SYNACK = 1 << 1,
    SHOW_RTT_SYNACK_ACK = 1 << 2,
    SHOW_CLIENT_MSS = 1 << 3,
    SHOW_SERVER_MSS = 1 << 4,
    SHOW_CLIENT_WSCALE = 1 << 5,
    SHOW_SERVER_WSCALE = 1 << 6,
    SHOW_CLOSE = 1 << 7,
    SHOW_ACTIVE_CLOSER = 1 << 8,
};

/* The facts a frame shows (only for the few frames that show any: a
 * connection's first frame, its handshake, its teardown). */
typedef struct {
    gint64 rtt_syn_synack_us;
    gint64 rtt_synack_ack_us;
    gint32 client_mss;
    gint32 server_mss;
    gint16 client_wscale;   /* the option's byte (up to 255) */
    gint16 server_wscale;
    gint8 open;             /* synack_open_kind */
    gint8 close;            /* synack_close_kind */
    gint8 active_closer;    /* synack_side */
} synack_frame_facts;

/* synack_frame_info::flags */
enum {
    FRAME_ANNOTATED = 1 << 0,   /* the record holds the frame's annotation */
    FRAME_RETRANSMISSION = 1 << 1,
};

/* What is cached per frame on the first pass: 28 bytes (all zero for a
 * frame synack says nothing about). */
typedef struct {
    /* A connection has at least one frame, and frame numbers are 32-bit. */
    guint32 conn;
    guint32 warnings;
    guint32 tcp_offset;     /* of the TCP header in the frame */
    guint32 facts;          /* index in frame_facts, when show is not 0 */
    guint16 show;           /* SHOW_* bits: the facts this frame shows */
    guint8 tcp_len;         /* TCP header length (data offset: 20..60) */
    guint8 flags;           /* FRAME_* bits */
    gint8 role;             /* synack_role, -1 none */
    guint8 combines;        /* other roles, bit n for role n */
    gint8 reset_kind;       /* synack_reset_kind, -1 none */
    gint8 dir;              /* synack_direction */
    gint8 client_state;     /* synack_state, -1 unknown */
    gint8 server_state;
} synack_frame_info;
G_STATIC_ASSERT(sizeof(synack_frame_info) == 28);

/* What the plugin remembers of a connection between frames (first pass). */
typedef struct {
    gint8 open;
    gint8 close;
    gint8 active_closer;
    gint64 rtt_syn_synack_us;
    gint64 rtt_synack_ack_us;
    gint32 client_mss, server_mss;
    gint32 client_wscale, server_wscale;
} synack_conn_track;

/* The capture file's tracker, connection notes and per-frame cache; made by
 * the init routine, freed by the cleanup routine (a new file, or a full
 * re-dissection, starts afresh). */
static synack_tracker *tracker;
/* Live connections: number -> synack_conn_track. Numbers fit in a pointer,
 * being below the 32-bit frame numbers; direct keys hash cheapest. */
static GHashTable *conns;
static guint32 last_fed;    /* the last frame number fed: frames go in once, in order */
static guint fed_since_drain; /* frames fed since the verdicts were last taken */
/* The per-frame cache: frame n's record at index n - 1 (zeroed, so not
 * FRAME_ANNOTATED, for the frames synack said nothing about). It is what
 * p_add_proto_data(wmem_file_scope(), ...) would hold, without an allocation
 * and a list search per frame: the frame numbers index it directly. */
static GArray *frames;      /* synack_frame_info */
static GArray *frame_facts; /* synack_frame_facts, indexed by synack_frame_info::facts */

/* Verdicts are taken every this many frames fed: they only end the notes on
 * connections no later frame belongs to, and asking for them on every frame
 * costs more than the rest of the plugin's bookkeeping. */
#define DRAIN_EVERY 64

/* WTAP_ENCAP_* -> pcap LINKTYPE_*, indexed by the encapsulation, built at
 * registration from wtap_pcap_encap_to_wtap_encap (its inverse is not
 * exported by libwiretap). */
static guint32 *linktype_by_encap;
static int linktype_by_encap_len;

/* The link type synack is given for an encapsulation it does not read: an
 * unknown one, which synack skips (unsupported, no state touched) as the
 * command line skips a capture's link type it does not read. */
#define LINKTYPE_NONE 0xFFFFFFFFu

/* The Info column's text for a packet with one role, " [handshake 1/3]", per
 * role, and for a reset, " [reset (refused)]", per reset kind. */
#define RESET_KIND_COUNT 3
static const char *info_role[ROLE_COUNT];
static const char *info_reset[RESET_KIND_COUNT];

static const char *
nonnull(const char *s)
{
    return s ? s : "?";
}

static void
build_linktype_map(void)
{
    /* The link types synack reads; each encapsulation maps to the first
     * that gives it (12, 14, 101 are all raw IP). Any other encapsulation
     * stays LINKTYPE_NONE: its own pcap number would be one synack does not
     * read either, so its frames are skipped all the same. */
    static const guint32 readable[] = {1, 113, 276, 101, 0, 108, 9, 50, 104, 228, 229};
    linktype_by_encap_len = wtap_get_num_encap_types();
    linktype_by_encap = wmem_alloc_array(wmem_epan_scope(), guint32, linktype_by_encap_len);
    for (int encap = 0; encap < linktype_by_encap_len; encap++)
        linktype_by_encap[encap] = LINKTYPE_NONE;
    for (size_t i = 0; i < G_N_ELEMENTS(readable); i++) {
        int encap = wtap_pcap_encap_to_wtap_encap((int)readable[i]);
        if (encap >= 0 && encap < linktype_by_encap_len && linktype_by_encap[encap] == LINKTYPE_NONE)
            linktype_by_encap[encap] = readable[i];
    }
}

static guint32
linktype_of(int encap)
{
    return encap >= 0 && encap < linktype_by_encap_len ? linktype_by_encap[encap] : LINKTYPE_NONE;
}

static void
build_info_texts(void)
{
    for (int r = 0; r < ROLE_COUNT; r++)
        info_role[r] = wmem_strdup_printf(wmem_epan_scope(), " [%s]", nonnull(synack_role_label(r)));
    for (int k = 0; k < RESET_KIND_COUNT; k++)
        info_reset[k] = wmem_strdup_printf(wmem_epan_scope(), " [%s (%s)]",
                                           nonnull(synack_role_label(SYNACK_ROLE_RESET)),
                                           nonnull(synack_reset_kind_name(k)));
}

static void
synack_init(void)
{
    synack_tracker_config config;
    synack_tracker_config_default(&config);
    tracker = synack_tracker_new(&config);
    conns = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    frames = g_array_new(FALSE, TRUE, sizeof(synack_frame_info));
    frame_facts = g_array_new(FALSE, FALSE, sizeof(synack_frame_facts));
    last_fed = 0;
    fed_since_drain = 0;
}

static void
synack_cleanup(void)
{
    if (tracker) {
        synack_tracker_free(tracker);
        tracker = NULL;
    }
    if (conns) {
        g_hash_table_destroy(conns);
        conns = NULL;
    }
    if (frames) {
        g_array_free(frames, TRUE);
        frames = NULL;
    }
    if (frame_facts) {
        g_array_free(frame_facts, TRUE);
        frame_facts = NULL;
    }
}

/* The cached record of frame num, or NULL when synack said nothing about it
 * (or it was not dissected yet). */
static const synack_frame_info *
cached_frame(guint32 num)
{
    if (!frames || num == 0 || num > frames->len)
        return NULL;
    const synack_frame_info *fi = &g_array_index(frames, synack_frame_info, num - 1);
    return (fi->flags & FRAME_ANNOTATED) ? fi : NULL;
}

static void
forget_frame(guint32 num)
{
    if (frames && num > 0 && num <= frames->len)
        g_array_index(frames, synack_frame_info, num - 1).flags = 0;
}

/* A new, zeroed record for frame num, a frame after every frame cached so
 * far; valid until the cache grows again. */
static synack_frame_info *
new_cached_frame(guint32 num)
{
    g_array_set_size(frames, num);
    return &g_array_index(frames, synack_frame_info, num - 1);
}

static synack_conn_track *
conn_track(guint64 conn)
{
    gpointer key = GSIZE_TO_POINTER((gsize)conn);
    synack_conn_track *c = (synack_conn_track *)g_hash_table_lookup(conns, key);
    if (!c) {
        c = g_new0(synack_conn_track, 1);
        c->open = -2; /* shown on the connection's first frame */
        c->close = SYNACK_CLOSE_KIND_NONE;
        c->active_closer = SYNACK_SIDE_NONE;
        c->rtt_syn_synack_us = c->rtt_synack_ack_us = -1;
        c->client_mss = c->server_mss = c->client_wscale = c->server_wscale = -1;
        g_hash_table_insert(conns, key, c);
    }
    return c;
}

/* Fills the frame's cached record from an annotation, updating the
 * connection's notes: which facts this frame is the first to know. */
static void
frame_info_from(synack_frame_info *fi, const synack_annotation *a)
{
    const synack_facts *f = &a->facts;

    fi->flags = FRAME_ANNOTATED | (a->retransmission ? FRAME_RETRANSMISSION : 0);
    fi->conn = (guint32)a->conn;
    fi->role = (gint8)a->role;
    fi->combines = a->combines;
    fi->reset_kind = (gint8)a->reset_kind;
    fi->dir = (gint8)a->direction;
    fi->client_state = (gint8)a->client_state;
    fi->server_state = (gint8)a->server_state;
    fi->warnings = a->warnings;
    if (a->frame.tcp_offset <= G_MAXUINT32) {
        fi->tcp_offset = (guint32)a->frame.tcp_offset;
        fi->tcp_len = (guint8)a->frame.tcp.header_len;
    }

    synack_conn_track *c = conn_track(a->conn);
    guint16 show = 0;
#define CHANGED(field, bit, value)                      \
    do {                                                \
        if ((value) != c->field) {                      \
            c->field = (value);                         \
            if ((value) >= 0)                           \
                show |= (bit);                          \
        }                                               \
    } while (0)
    CHANGED(open, SHOW_OPEN, (gint8)f->open);
    CHANGED(rtt_syn_synack_us, SHOW_RTT_SYN_SYNACK, f->rtt_syn_synack_us);
    CHANGED(rtt_synack_ack_us, SHOW_RTT_SYNACK_ACK, f->rtt_synack_ack_us);
    CHANGED(client_mss, SHOW_CLIENT_MSS, f->client.mss);
    CHANGED(server_mss, SHOW_SERVER_MSS, f->server.mss);
    CHANGED(client_wscale, SHOW_CLIENT_WSCALE, f->client.wscale);
    CHANGED(server_wscale, SHOW_SERVER_WSCALE, f->server.wscale);

    /* The close and the active closer, as the tracker knows them so far. */
    if ((gint8)f->close != c->close) {
        c->close = (gint8)f->close;
        if (f->close != SYNACK_CLOSE_KIND_NONE)
            show |= SHOW_CLOSE;
    }
    if ((gint8)f->active_closer != c->active_closer) {
        c->active_closer = (gint8)f->active_closer;
        if (f->active_closer != SYNACK_SIDE_NONE)
            show |= SHOW_ACTIVE_CLOSER;
    }
    guint roles = a->combines;
    if (a->role >= 0 && a->role < ROLE_COUNT)
        roles |= 1u << a->role;
    /* The active closer goes with every teardown packet once known. */
    if ((roles & TEARDOWN_ROLES) && c->active_closer != SYNACK_SIDE_NONE)
        show |= SHOW_ACTIVE_CLOSER;
    fi->show = show;
    if (show) {
        synack_frame_facts ff = {
            .open = (gint8)f->open,
            .rtt_syn_synack_us = f->rtt_syn_synack_us,
            .rtt_synack_ack_us = f->rtt_synack_ack_us,
            .client_mss = f->client.mss,
            .server_mss = f->server.mss,
            .client_wscale = (gint16)f->client.wscale,
            .server_wscale = (gint16)f->server.wscale,
            .close = c->close,
            .active_closer = c->active_closer,
        };
        fi->facts = frame_facts->len;
        g_array_append_val(frame_facts, ff);
    }
#undef CHANGED
}

/* Takes the verdicts of connections that ended: the plugin shows facts per
 * frame, so a verdict only ends the plugin's notes on its connection (which
 * no later frame belongs to), keeping memory to the live connections. */
static void
drain_verdicts(void)
{
    synack_verdict v;
    while (synack_tracker_next_verdict(tracker, &v) == 1) {
        g_hash_table_remove(conns, GSIZE_TO_POINTER((gsize)v.conn));
    }
}

/* Feeds one frame to the tracker (first pass only) and caches what it says;
 * NULL when synack has nothing to say about it (not TCP, a link type it does
 * not read, ...). */
static const synack_frame_info *
feed(tvbuff_t *tvb, packet_info *pinfo)
{
    /* A frame seen for the first time has nothing cached, whatever a frame
     * of the same number left: a read filter's dropped frame gives its number
     * to the next (tshark -2 -R), as Wireshark's own per-frame data goes with
     * the dropped frame. */
    forget_frame(pinfo->num);
    if (!tracker || !pinfo->rec || pinfo->rec->rec_type != REC_TYPE_PACKET)
        return NULL;
    /* Never twice, never backwards: the tracker needs capture order. */
    if (pinfo->num <= last_fed)
        return NULL;
    last_fed = pinfo->num;
    guint len = tvb_captured_length(tvb);
    if (len == 0)
        return NULL;
    const guint8 *bytes = tvb_get_ptr(tvb, 0, len);
    guint32 linktype = linktype_of(pinfo->rec->rec_header.packet_header.pkt_encap);
    guint64 ts_ns = 0;
    if (pinfo->abs_ts.secs > 0 || (pinfo->abs_ts.secs == 0 && pinfo->abs_ts.nsecs > 0))
        ts_ns = (guint64)pinfo->abs_ts.secs * G_GUINT64_CONSTANT(1000000000) +
                (guint64)(pinfo->abs_ts.nsecs > 0 ? pinfo->abs_ts.nsecs : 0);

    synack_annotation a;
    int status = synack_tracker_feed(tracker, linktype, ts_ns, pinfo->num, bytes, len, &a);
    synack_frame_info *fi = NULL;
    if (status == FEED_OK) {
        fi = new_cached_frame(pinfo->num);
        frame_info_from(fi, &a);
    }
    if (++fed_since_drain >= DRAIN_EVERY) {
        fed_since_drain = 0;
        drain_verdicts();
    }
    return fi;
}

/* The Info column's text when it is one of those made at registration (one
 * role, no other), else NULL. */
static const char *
info_text(const synack_frame_info *fi)
{
    if (fi->combines || fi->role >= ROLE_COUNT)
        return NULL;
    if (fi->role != SYNACK_ROLE_RESET || fi->reset_kind < 0)
        return info_role[fi->role];
    return fi->reset_kind < RESET_KIND_COUNT ? info_reset[fi->reset_kind] : NULL;
}

static void
add_info_column(packet_info *pinfo, const synack_frame_info *fi)
{
    if (fi->role < 0)
        return;
    const char *text = info_text(fi);
    if (text) {
        col_append_str(pinfo->cinfo, COL_INFO, text);
        return;
    }
    wmem_strbuf_t *buf = wmem_strbuf_new(pinfo->pool, " [");
    wmem_strbuf_append(buf, nonnull(synack_role_label(fi->role)));
    if (fi->role == SYNACK_ROLE_RESET && fi->reset_kind >= 0)
        wmem_strbuf_append_printf(buf, " (%s)", nonnull(synack_reset_kind_name(fi->reset_kind)));
    for (int r = 0; r < ROLE_COUNT; r++) {
        if (fi->combines & (1u << r)) {
            wmem_strbuf_append(buf, " + ");
            wmem_strbuf_append(buf, nonnull(synack_role_label(r)));
        }
    }
    wmem_strbuf_append_c(buf, ']');
    col_append_str(pinfo->cinfo, COL_INFO, wmem_strbuf_get_str(buf));
}

static nstime_t
us_to_nstime(gint64 us)
{
    nstime_t t;
    t.secs = (time_t)(us / 1000000);
    t.nsecs = (int)((us % 1000000) * 1000);
    return t;
}

static void
add_facts(tvbuff_t *tvb, proto_tree *st, const synack_frame_info *fi, gint off, gint len)
{
    if (!fi->show)
        return;
    const synack_frame_facts *ff = &g_array_index(frame_facts, synack_frame_facts, fi->facts);
    proto_tree *ft = proto_tree_add_subtree(st, tvb, off, len, ett_synack_facts, NULL,
                                            "Connection facts known from this packet");
    if (fi->show & SHOW_OPEN)
        proto_tree_add_string(ft, hf_synack_open, tvb, off, len, nonnull(synack_open_kind_name(ff->open)));
    if (fi->show & SHOW_RTT_SYN_SYNACK) {
        nstime_t t = us_to_nstime(ff->rtt_syn_synack_us);
        proto_tree_add_time(ft, hf_synack_rtt_syn_synack, tvb, off, len, &t);
    }
    if (fi->show & SHOW_RTT_SYNACK_ACK) {
        nstime_t t = us_to_nstime(ff->rtt_synack_ack_us);
        proto_tree_add_time(ft, hf_synack_rtt_synack_ack, tvb, off, len, &t);
    }
    if (fi->show & SHOW_CLIENT_MSS)
        proto_tree_add_uint(ft, hf_synack_client_mss, tvb, off, len, (guint32)ff->client_mss);
    if (fi->show & SHOW_SERVER_MSS)
        proto_tree_add_uint(ft, hf_synack_server_mss, tvb, off, len, (guint32)ff->server_mss);
    if (fi->show & SHOW_CLIENT_WSCALE)
        proto_tree_add_uint(ft, hf_synack_client_wscale, tvb, off, len, (guint32)ff->client_wscale);
    if (fi->show & SHOW_SERVER_WSCALE)
        proto_tree_add_uint(ft, hf_synack_server_wscale, tvb, off, len, (guint32)ff->server_wscale);
    if (fi->show & SHOW_CLOSE)
        proto_tree_add_string(ft, hf_synack_close, tvb, off, len, nonnull(synack_close_kind_name(ff->close)));
    if (fi->show & SHOW_ACTIVE_CLOSER)
        proto_tree_add_string(ft, hf_synack_active_closer, tvb, off, len,
                              nonnull(synack_side_name(ff->active_closer)));
}

/* The fields under the protocol item ti, each expert item on the field it
 * is about. */
static void
add_fields(tvbuff_t *tvb, packet_info *pinfo, proto_item *ti, const synack_frame_info *fi,
           gint off, gint len)
{
    proto_tree *st = proto_item_add_subtree(ti, ett_synack);
    const char *role = fi->role >= 0 ? synack_role_name(fi->role) : NULL;
    proto_item_append_text(ti, ", conn %u, %s%s%s", fi->conn,
                           nonnull(synack_direction_name(fi->dir)),
                           role ? ", " : "", role ? role : "");

    if (role)
        proto_tree_add_string(st, hf_synack_role, tvb, off, len, role);
    if (fi->combines) {
        wmem_strbuf_t *buf = wmem_strbuf_new(pinfo->pool, "");
        for (int r = 0; r < ROLE_COUNT; r++) {
            if (fi->combines & (1u << r)) {
                if (wmem_strbuf_get_len(buf))
                    wmem_strbuf_append_c(buf, ',');
                wmem_strbuf_append(buf, nonnull(synack_role_name(r)));
            }
        }
        proto_tree_add_string(st, hf_synack_combines, tvb, off, len, wmem_strbuf_get_str(buf));
    }
    if (fi->reset_kind >= 0) {
        proto_item *ri = proto_tree_add_string(st, hf_synack_reset_kind, tvb, off, len,
                                               nonnull(synack_reset_kind_name(fi->reset_kind)));
        if (fi->reset_kind == SYNACK_RESET_KIND_REFUSED)
            expert_add_info(pinfo, ri, &ei_synack_refused);
    }
    if (fi->flags & FRAME_RETRANSMISSION) {
        proto_item *ri = proto_tree_add_boolean(st, hf_synack_retransmission, tvb, off, len, TRUE);
        expert_add_info(pinfo, ri, &ei_synack_retransmission);
    }
    proto_tree_add_uint64(st, hf_synack_conn, tvb, off, len, fi->conn);
    proto_tree_add_string(st, hf_synack_dir, tvb, off, len, nonnull(synack_direction_name(fi->dir)));
    if (fi->client_state >= 0)
        proto_tree_add_string(st, hf_synack_client_state, tvb, off, len,
                              nonnull(synack_state_name(fi->client_state)));
    if (fi->server_state >= 0)
        proto_tree_add_string(st, hf_synack_server_state, tvb, off, len,
                              nonnull(synack_state_name(fi->server_state)));
    for (int bit = 0; bit < 32; bit++) {
        if (!(fi->warnings & (1u << bit)))
            continue;
        proto_item *wi = proto_tree_add_string(st, hf_synack_warning, tvb, off, len,
                                               nonnull(synack_warning_name(bit)));
        if (bit < WARNING_COUNT)
            expert_add_info(pinfo, wi, &ei_synack_warning[bit]);
    }
    add_facts(tvb, st, fi, off, len);
}

/* The expert items alone, in add_fields' order, all on the protocol item
 * ti: where they go when the fields would be faked (a tree nobody sees,
 * no synack field in a filter), since Wireshark then hands back ti itself
 * for every field. Expert items are added even then: tshark -z expert, the
 * Expert column and _ws.expert filters see them. */
static void
add_expert_info(packet_info *pinfo, proto_item *ti, const synack_frame_info *fi)
{
    if (fi->reset_kind == SYNACK_RESET_KIND_REFUSED)
        expert_add_info(pinfo, ti, &ei_synack_refused);
    if (fi->flags & FRAME_RETRANSMISSION)
        expert_add_info(pinfo, ti, &ei_synack_retransmission);
    for (int bit = 0; bit < WARNING_COUNT; bit++)
        if (fi->warnings & (1u << bit))
            expert_add_info(pinfo, ti, &ei_synack_warning[bit]);
}

static void
add_tree(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, const synack_frame_info *fi)
{
    /* The items cover the TCP header (within what was captured). */
    guint captured = tvb_captured_length(tvb);
    gint off = 0, len = 0;
    if (fi->tcp_offset < captured) {
        off = (gint)fi->tcp_offset;
        len = (gint)MIN(fi->tcp_len, captured - fi->tcp_offset);
    }

    /* The protocol item is real even in a tree nobody sees (a postdissector
     * adds it at the tree's root, which Wireshark never fakes). */
    proto_item *ti = proto_tree_add_item(tree, proto_synack, tvb, off, len, ENC_NA);
    if (proto_field_is_referenced(tree, proto_synack))
        add_fields(tvb, pinfo, ti, fi, off, len);
    else
        add_expert_info(pinfo, ti, fi);
}

static int
dissect_synack(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    /* The first pass is the only time the tracker sees a frame; every later
     * pass (tshark -2, re-dissection in the GUI) shows what it said then. */
    const synack_frame_info *fi =
        PINFO_FD_VISITED(pinfo) ? cached_frame(pinfo->num) : feed(tvb, pinfo);
    if (!fi)
        return 0;
    add_info_column(pinfo, fi);
    add_tree(tvb, pinfo, tree, fi);
    return tvb_captured_length(tvb);
}

static void
proto_register_synack(void)
{
    static hf_register_info hf[] = {
        {&hf_synack_role,
         {"Role", "synack.role", FT_STRING, BASE_NONE, NULL, 0x0,
          "The part the packet plays in opening or closing its connection "
          "(handshake-1..3, teardown-1..4, reset); the latest when it fills several", HFILL}},
        {&hf_synack_combines,
         {"Also", "synack.combines", FT_STRING, BASE_NONE, NULL, 0x0,
          "The other roles the packet fills, comma-separated", HFILL}},
        {&hf_synack_reset_kind,
         {"Reset kind", "synack.reset_kind", FT_STRING, BASE_NONE, NULL, 0x0,
          "refused, after-close or abort", HFILL}},
        {&hf_synack_retransmission,
         {"Retransmission", "synack.retransmission", FT_BOOLEAN, BASE_NONE, NULL, 0x0,
          "A retransmitted SYN, SYN-ACK or FIN", HFILL}},
        {&hf_synack_conn,
         {"Connection", "synack.conn", FT_UINT64, BASE_DEC, NULL, 0x0,
          "Connection number, from 0, in order of first packet (as synack --format json)", HFILL}},
        {&hf_synack_dir,
         {"Direction", "synack.dir", FT_STRING, BASE_NONE, NULL, 0x0,
          "c2s (client to server) or s2c", HFILL}},
        {&hf_synack_client_state,
         {"Client state", "synack.client_state", FT_STRING, BASE_NONE, NULL, 0x0,
          "The client's RFC 9293 state after this packet", HFILL}},
        {&hf_synack_server_state,
         {"Server state", "synack.server_state", FT_STRING, BASE_NONE, NULL, 0x0,
          "The server's RFC 9293 state after this packet", HFILL}},
        {&hf_synack_warning,
         {"Warning", "synack.warning", FT_STRING, BASE_NONE, NULL, 0x0,
          "An oddity in the packet (the code of synack --format json)", HFILL}},
        {&hf_synack_open,
         {"Open", "synack.open", FT_STRING, BASE_NONE, NULL, 0x0,
          "How the connection opened, as known from this packet "
          "(three-way, simultaneous, fast-open, midstream, incomplete)", HFILL}},
        {&hf_synack_rtt_syn_synack,
         {"RTT SYN to SYN-ACK", "synack.rtt_syn_synack", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
          "Time from the (latest) SYN to the SYN-ACK", HFILL}},
        {&hf_synack_rtt_synack_ack,
         {"RTT SYN-ACK to ACK", "synack.rtt_synack_ack", FT_RELATIVE_TIME, BASE_NONE, NULL, 0x0,
          "Time from the SYN-ACK to the ACK that completes the handshake", HFILL}},
        {&hf_synack_client_mss,
         {"Client MSS", "synack.client_mss", FT_UINT16, BASE_DEC, NULL, 0x0,
          "MSS offered in the client's SYN", HFILL}},
        {&hf_synack_server_mss,
         {"Server MSS", "synack.server_mss", FT_UINT16, BASE_DEC, NULL, 0x0,
          "MSS offered in the server's SYN-ACK", HFILL}},
        {&hf_synack_client_wscale,
         {"Client window scale", "synack.client_wscale", FT_UINT8, BASE_DEC, NULL, 0x0,
          "Window scale shift offered in the client's SYN", HFILL}},
        {&hf_synack_server_wscale,
         {"Server window scale", "synack.server_wscale", FT_UINT8, BASE_DEC, NULL, 0x0,
          "Window scale shift offered in the server's SYN-ACK", HFILL}},
        {&hf_synack_close,
         {"Close", "synack.close", FT_STRING, BASE_NONE, NULL, 0x0,
          "How the connection closed, as known from this packet "
          "(fin, simultaneous, half-open, reset)", HFILL}},
        {&hf_synack_active_closer,
         {"Active closer", "synack.active_closer", FT_STRING, BASE_NONE, NULL, 0x0,
          "The side that sent the first FIN (client or server)", HFILL}},
    };

    static gint *ett[] = {&ett_synack, &ett_synack_facts};

    /* One expert item per warning bit (synack_warning_name(bit), in bit order). */
    static ei_register_info ei[] = {
        {&ei_synack_refused,
         {"synack.refused", PI_SEQUENCE, PI_WARN,
          "Connection refused: RST answering the SYN", EXPFILL}},
        {&ei_synack_retransmission,
         {"synack.retransmission.expert", PI_SEQUENCE, PI_NOTE,
          "Retransmitted SYN, SYN-ACK or FIN", EXPFILL}},
        {&ei_synack_warning[0],
         {"synack.warning.malformed_option", PI_MALFORMED, PI_WARN,
          "A TCP option could not be read (bad length, or it runs past the header)", EXPFILL}},
        {&ei_synack_warning[1],
         {"synack.warning.nonzero_padding", PI_PROTOCOL, PI_NOTE,
          "Non-zero bytes after the End of Option List", EXPFILL}},
        {&ei_synack_warning[2],
         {"synack.warning.truncated", PI_MALFORMED, PI_NOTE,
          "The snap length cut the segment", EXPFILL}},
        {&ei_synack_warning[3],
         {"synack.warning.syn_fin", PI_PROTOCOL, PI_WARN,
          "SYN and FIN in one segment", EXPFILL}},
        {&ei_synack_warning[4],
         {"synack.warning.syn_rst", PI_PROTOCOL, PI_WARN,
          "SYN and RST in one segment", EXPFILL}},
        {&ei_synack_warning[5],
         {"synack.warning.syn_data_without_tfo", PI_PROTOCOL, PI_WARN,
          "Data on a SYN without a TCP Fast Open cookie", EXPFILL}},
        {&ei_synack_warning[6],
         {"synack.warning.bad_checksum", PI_CHECKSUM, PI_WARN,
          "The TCP checksum does not match", EXPFILL}},
        {&ei_synack_warning[7],
         {"synack.warning.urgent_pointer_without_urg", PI_PROTOCOL, PI_NOTE,
          "The urgent pointer is set without URG", EXPFILL}},
        {&ei_synack_warning[8],
         {"synack.warning.ack_number_without_ack", PI_PROTOCOL, PI_NOTE,
          "The acknowledgment number is non-zero without ACK", EXPFILL}},
        {&ei_synack_warning[9],
         {"synack.warning.reserved_bits", PI_PROTOCOL, PI_NOTE,
          "A reserved TCP flag bit is set", EXPFILL}},
        {&ei_synack_warning[10],
         {"synack.warning.unexpected", PI_SEQUENCE, PI_NOTE,
          "A segment that fits no connection state", EXPFILL}},
    };
    G_STATIC_ASSERT(array_length(ei) == 2 + WARNING_COUNT);

    proto_synack = proto_register_protocol("synack TCP connection roles and states",
                                           "synack", "synack");
    proto_register_field_array(proto_synack, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_module_t *expert = expert_register_protocol(proto_synack);
    expert_register_field_array(expert, ei, array_length(ei));

    register_init_routine(synack_init);
    register_cleanup_routine(synack_cleanup);
    build_linktype_map();
    build_info_texts();
}

static void
proto_reg_handoff_synack(void)
{
    dissector_handle_t handle = create_dissector_handle(dissect_synack, proto_synack);
    register_postdissector(handle);
}

void
plugin_register(void)
{
    static proto_plugin plugin;
    plugin.register_protoinfo = proto_register_synack;
    plugin.register_handoff = proto_reg_handoff_synack;
    proto_register_plugin(&plugin);
}
