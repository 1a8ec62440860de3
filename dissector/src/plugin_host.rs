//! Run-time plugins: their C ABI (the descriptor a plugin exports) and the
//! host that loads them and runs them over connections.
//!
//! A plugin is a shared object exporting one function,
//! `synack_plugin_descriptor_v1`, that returns a pointer to a static
//! [`synack_plugin_descriptor`]. The host calls `on_open` on a connection's
//! first packet, `on_payload` on every packet carrying payload, and
//! `on_close` when the connection's verdict is given; `on_close` hands its
//! labels to a [`synack_label_sink`] and frees the plugin's state.
//!
//! Rust front ends (the `synack` command) use [`PluginHost`]:
//!
//! ```no_run
//! use synack_dissector::plugin_host::PluginHost;
//! # fn f(pipeline: &mut synack_dissector::pipeline::Pipeline,
//! #      packet: &synack_core::capture::Packet<'_>) -> Result<(), Box<dyn std::error::Error>> {
//! let mut host = PluginHost::new();
//! host.load("target/release/libsynack_appproto.so")?;
//! if let synack_dissector::pipeline::Outcome::Tcp { frame, annotation } = pipeline.process(packet) {
//!     host.observe(&annotation, &frame);
//! }
//! for (verdict, _why) in pipeline.tracker().drain_ended() {
//!     let labels = host.close(verdict.conn); // Vec<(String, String)>
//!     # let _ = labels;
//! }
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::fmt;
use std::net::IpAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use crate::annotation::{Annotation, Direction};
use synack_core::flow::Endpoint;
use synack_core::frame::TcpFrame;

/// Which way a packet travels, relative to the connection's client.
#[repr(i32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum synack_direction {
    /// Client to server (`c2s`).
    C2s = 0,
    /// Server to client (`s2c`).
    S2c = 1,
}

impl From<Direction> for synack_direction {
    fn from(d: Direction) -> Self {
        match d {
            Direction::ClientToServer => synack_direction::C2s,
            Direction::ServerToClient => synack_direction::S2c,
        }
    }
}

/// An IP address and TCP port.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct synack_endpoint {
    /// 4 for IPv4, 6 for IPv6.
    pub family: u8,
    /// The address in network byte order: 4 bytes for IPv4 (the other 12 are
    /// 0), 16 for IPv6. `synack_endpoint_addr` formats it.
    pub addr: [u8; 16],
    /// The TCP port (host byte order); 0 where there is none (a later fragment).
    pub port: u16,
}

impl synack_endpoint {
    /// The endpoint of `addr` and `port`.
    pub fn new(addr: IpAddr, port: u16) -> synack_endpoint {
        let mut out = synack_endpoint {
            port,
            ..synack_endpoint::default()
        };
        match addr {
            IpAddr::V4(a) => {
                out.family = 4;
                out.addr[..4].copy_from_slice(&a.octets());
            }
            IpAddr::V6(a) => {
                out.family = 6;
                out.addr = a.octets();
            }
        }
        out
    }

    /// The address, or None for a family other than 4 or 6.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.family {
            4 => {
                let o: [u8; 4] = self.addr[..4].try_into().ok()?;
                Some(IpAddr::from(o))
            }
            6 => Some(IpAddr::from(self.addr)),
            _ => None,
        }
    }
}

/// The plugin ABI version this library hosts; a plugin's descriptor must
/// carry exactly this in `abi_version`.
pub const SYNACK_PLUGIN_ABI_VERSION: u32 = 1;

/// The name of the function a plugin exports (a `synack_plugin_entry`).
pub const SYNACK_PLUGIN_SYMBOL: &str = "synack_plugin_descriptor_v1";

/// Most labels one plugin may put on one connection; more are dropped.
pub const SYNACK_PLUGIN_MAX_LABELS: usize = 64;

/// Where a plugin's `on_close` puts its labels: call
/// `sink->add(sink->ctx, name, value)` once per label. The host copies both
/// NUL-terminated strings during the call, so the plugin keeps ownership of
/// them (they may be freed, or be stack buffers). `add` returns 0, or -1
/// when a pointer is NULL or the plugin gave more than
/// `SYNACK_PLUGIN_MAX_LABELS` labels. The sink is valid only during `on_close`.
#[repr(C)]
pub struct synack_label_sink {
    /// The host's context: pass it back as `add`'s first argument.
    pub ctx: *mut c_void,
    /// Adds one label (name, value), both NUL-terminated UTF-8 (bytes that
    /// are not are replaced with U+FFFD).
    pub add: Option<
        unsafe extern "C" fn(ctx: *mut c_void, name: *const c_char, value: *const c_char) -> c_int,
    >,
}

/// Called on a connection's first packet. `client` and `server` are valid
/// during the call only. Set `*state` to the plugin's per-connection state
/// (or leave it NULL) and return 0 to follow the connection; return
/// non-zero to ignore it (no further call is made for it, not even on_close).
pub type synack_plugin_on_open = Option<
    unsafe extern "C" fn(
        conn: u64,
        client: *const synack_endpoint,
        server: *const synack_endpoint,
        state: *mut *mut c_void,
    ) -> c_int,
>;

/// Called for every packet of a followed connection that carries payload
/// (as captured: no reassembly, retransmissions included), in capture
/// order. `data` is valid during the call only. Return 0 for more payload,
/// non-zero when the plugin needs no more of this connection's payload
/// (on_close is still called).
pub type synack_plugin_on_payload = Option<
    unsafe extern "C" fn(
        state: *mut c_void,
        direction: synack_direction,
        data: *const u8,
        len: usize,
    ) -> c_int,
>;

/// Called once when a followed connection's verdict is given (or when the
/// host is freed, then with a sink that drops the labels). Add labels to
/// `sink`, then free `state`: it is not used again.
pub type synack_plugin_on_close =
    Option<unsafe extern "C" fn(state: *mut c_void, sink: *const synack_label_sink)>;

/// What a plugin is: returned by its `synack_plugin_descriptor_v1`. The
/// descriptor and its strings must stay valid while the plugin is loaded
/// (make them static). Any callback may be NULL.
///
/// Callbacks are called from the thread that feeds the tracker, never
/// concurrently for one host; a host (a tracker) may move between threads,
/// so a plugin must not rely on thread-local storage between calls. Two
/// hosts (two trackers) may call the same plugin concurrently: a plugin
/// keeps its mutable data in the per-connection state.
#[repr(C)]
pub struct synack_plugin_descriptor {
    /// Must be `SYNACK_PLUGIN_ABI_VERSION`; a plugin with another is refused.
    pub abi_version: u32,
    /// The plugin's name (NUL-terminated, not NULL), e.g. `appproto`.
    pub name: *const c_char,
    /// A one-line description, or NULL.
    pub description: *const c_char,
    /// See `synack_plugin_on_open`.
    pub on_open: synack_plugin_on_open,
    /// See `synack_plugin_on_payload`.
    pub on_payload: synack_plugin_on_payload,
    /// See `synack_plugin_on_close`.
    pub on_close: synack_plugin_on_close,
}

/// The type of the function a plugin exports under the name
/// `synack_plugin_descriptor_v1` (`SYNACK_PLUGIN_SYMBOL`).
pub type synack_plugin_entry = unsafe extern "C" fn() -> *const synack_plugin_descriptor;

/// Why a plugin was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginError {
    /// The file could not be loaded as a shared object.
    Load {
        /// The plugin's path.
        path: PathBuf,
        /// The loader's message.
        message: String,
    },
    /// The shared object exports no `synack_plugin_descriptor_v1`.
    NoDescriptor {
        /// The plugin's path.
        path: PathBuf,
    },
    /// The descriptor is unusable (NULL, or no name).
    Invalid {
        /// The plugin's path.
        path: PathBuf,
        /// What is wrong.
        what: &'static str,
    },
    /// The plugin was built for another plugin ABI version.
    AbiVersion {
        /// The plugin's path.
        path: PathBuf,
        /// The version it carries.
        found: u32,
    },
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginError::Load { path, message } => {
                write!(f, "plugin {}: cannot load: {message}", path.display())
            }
            PluginError::NoDescriptor { path } => write!(
                f,
                "plugin {}: not a synack plugin (it exports no {SYNACK_PLUGIN_SYMBOL})",
                path.display()
            ),
            PluginError::Invalid { path, what } => {
                write!(f, "plugin {}: invalid descriptor: {what}", path.display())
            }
            PluginError::AbiVersion { path, found } => write!(
                f,
                "plugin {}: built for plugin ABI version {found}, this synack hosts version {SYNACK_PLUGIN_ABI_VERSION}",
                path.display()
            ),
        }
    }
}

impl std::error::Error for PluginError {}

/// A loaded plugin.
pub struct Plugin {
    name: String,
    path: PathBuf,
    on_open: synack_plugin_on_open,
    on_payload: synack_plugin_on_payload,
    on_close: synack_plugin_on_close,
    // Last: the callbacks above point into it.
    _library: libloading::Library,
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[cfg(unix)]
fn open_library(path: &Path) -> Result<libloading::Library, libloading::Error> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
    // SAFETY: loading runs the object's initialisers: trusting the plugin file
    // is the user's choice, as with any plugin.
    unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }.map(Into::into)
}

#[cfg(not(unix))]
fn open_library(path: &Path) -> Result<libloading::Library, libloading::Error> {
    // SAFETY: as above.
    unsafe { libloading::Library::new(path) }
}

impl Plugin {
    /// Loads the plugin at `path` (give a path with a `/`: a bare name is
    /// looked up in the loader's search path), checking its descriptor.
    pub fn load(path: impl AsRef<Path>) -> Result<Plugin, PluginError> {
        let path = path.as_ref().to_path_buf();
        let library = open_library(&path).map_err(|e| PluginError::Load {
            path: path.clone(),
            message: e.to_string(),
        })?;
        // SAFETY: the symbol is a `synack_plugin_entry` by the plugin ABI.
        let entry: synack_plugin_entry =
            match unsafe { library.get::<synack_plugin_entry>(SYNACK_PLUGIN_SYMBOL.as_bytes()) } {
                Ok(sym) => *sym,
                Err(_) => return Err(PluginError::NoDescriptor { path }),
            };
        // SAFETY: calling the plugin's entry, as the ABI says; it returns a
        // pointer to a static descriptor (or NULL).
        let desc = unsafe { entry() };
        if desc.is_null() {
            return Err(PluginError::Invalid {
                path,
                what: "synack_plugin_descriptor_v1 returned NULL",
            });
        }
        // SAFETY: non-NULL; the descriptor lives as long as the library. Only
        // the version is read before it is checked.
        let abi_version = unsafe { std::ptr::addr_of!((*desc).abi_version).read() };
        if abi_version != SYNACK_PLUGIN_ABI_VERSION {
            return Err(PluginError::AbiVersion {
                path,
                found: abi_version,
            });
        }
        // SAFETY: a version-1 descriptor has this layout.
        let d = unsafe { &*desc };
        if d.name.is_null() {
            return Err(PluginError::Invalid {
                path,
                what: "no name",
            });
        }
        // SAFETY: a NUL-terminated string by the ABI.
        let name = unsafe { CStr::from_ptr(d.name) }
            .to_string_lossy()
            .into_owned();
        Ok(Plugin {
            name,
            path,
            on_open: d.on_open,
            on_payload: d.on_payload,
            on_close: d.on_close,
            _library: library,
        })
    }

    /// The name the plugin gives itself.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// One plugin's hold on one connection.
struct Slot {
    state: *mut c_void,
    wants_payload: bool,
}

/// The labels one `on_close` call gives.
struct Collected {
    labels: Vec<(String, String)>,
    given: usize,
    keep: bool,
}

unsafe extern "C" fn sink_add(
    ctx: *mut c_void,
    name: *const c_char,
    value: *const c_char,
) -> c_int {
    if ctx.is_null() || name.is_null() || value.is_null() {
        return -1;
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: ctx is the `Collected` the host passed for this call.
        let collected = unsafe { &mut *ctx.cast::<Collected>() };
        collected.given += 1;
        if collected.given > SYNACK_PLUGIN_MAX_LABELS {
            return -1;
        }
        if collected.keep {
            // SAFETY: NUL-terminated strings by the ABI, valid during the call.
            let (n, v) = unsafe { (CStr::from_ptr(name), CStr::from_ptr(value)) };
            collected.labels.push((
                n.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            ));
        }
        0
    }));
    result.unwrap_or(-1)
}

/// Runs plugins over connections: feed it every annotated packet
/// ([`PluginHost::observe`]), and ask for a connection's labels when its
/// verdict is given ([`PluginHost::close`]).
#[derive(Default)]
pub struct PluginHost {
    plugins: Vec<Plugin>,
    /// Followed connections: one slot per plugin (None: ignored or done).
    conns: HashMap<u64, Vec<Option<Slot>>>,
}

// SAFETY: the plugin states are only touched through `&mut self`, and the
// plugin ABI requires that a plugin's calls may come from any thread (never
// concurrently for one host).
unsafe impl Send for PluginHost {}

impl fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginHost")
            .field("plugins", &self.plugins)
            .field("connections", &self.conns.len())
            .finish()
    }
}

impl PluginHost {
    /// A host with no plugin.
    pub fn new() -> PluginHost {
        PluginHost::default()
    }

    /// Loads the plugin at `path` and adds it.
    pub fn load(&mut self, path: impl AsRef<Path>) -> Result<&Plugin, PluginError> {
        let plugin = Plugin::load(path)?;
        self.add(plugin);
        Ok(self.plugins.last().expect("just added"))
    }

    /// Adds a loaded plugin. It sees connections from their next packet on.
    pub fn add(&mut self, plugin: Plugin) {
        self.plugins.push(plugin);
        for slots in self.conns.values_mut() {
            slots.push(None);
        }
    }

    /// The plugins, in the order added (their labels come in this order).
    pub fn plugins(&self) -> &[Plugin] {
        &self.plugins
    }

    /// True when no plugin is loaded.
    pub fn is_empty(&self) -> bool {
        self.plugins.is_empty()
    }

    /// Takes in one annotated TCP packet: opens its connection for every
    /// plugin on its first packet, then hands its payload over.
    #[inline]
    pub fn observe(&mut self, annotation: &Annotation, frame: &TcpFrame<'_>) {
        if !self.plugins.is_empty() {
            let src = Endpoint {
                addr: frame.ip.src(),
                port: frame.tcp.src_port(),
            };
            let dst = Endpoint {
                addr: frame.ip.dst(),
                port: frame.tcp.dst_port(),
            };
            self.observe_parts(annotation, src, dst, frame.tcp.payload());
        }
    }

    /// [`observe`](Self::observe) for a packet known by its endpoints and
    /// payload (the frame's bytes gone, as on a tracking thread).
    pub fn observe_parts(
        &mut self,
        annotation: &Annotation,
        src: Endpoint,
        dst: Endpoint,
        payload: &[u8],
    ) {
        if self.plugins.is_empty() {
            return;
        }
        let conn = annotation.conn;
        if !self.conns.contains_key(&conn) {
            let src = synack_endpoint::new(src.addr, src.port);
            let dst = synack_endpoint::new(dst.addr, dst.port);
            let (client, server) = match annotation.dir {
                Direction::ClientToServer => (src, dst),
                Direction::ServerToClient => (dst, src),
            };
            let slots = self
                .plugins
                .iter()
                .map(|p| {
                    let mut state: *mut c_void = std::ptr::null_mut();
                    let follow = match p.on_open {
                        // SAFETY: the plugin's callback, called as its ABI says.
                        Some(f) => (unsafe { f(conn, &client, &server, &mut state) }) == 0,
                        None => true,
                    };
                    follow.then_some(Slot {
                        state,
                        wants_payload: p.on_payload.is_some(),
                    })
                })
                .collect();
            self.conns.insert(conn, slots);
        }
        if payload.is_empty() {
            return;
        }
        let dir = synack_direction::from(annotation.dir);
        let Some(slots) = self.conns.get_mut(&conn) else {
            return;
        };
        for (plugin, slot) in self.plugins.iter().zip(slots.iter_mut()) {
            let Some(slot) = slot.as_mut().filter(|s| s.wants_payload) else {
                continue;
            };
            if let Some(f) = plugin.on_payload {
                // SAFETY: the plugin's callback with its own state; `payload`
                // is valid during the call.
                let more = unsafe { f(slot.state, dir, payload.as_ptr(), payload.len()) };
                slot.wants_payload = more == 0;
            }
        }
    }

    /// Ends connection `conn` for every plugin and returns the labels they
    /// put on it, in plugin order (none when it was never observed).
    pub fn close(&mut self, conn: u64) -> Vec<(String, String)> {
        let mut labels = Vec::new();
        if let Some(slots) = self.conns.remove(&conn) {
            self.finish_slots(slots, Some(&mut labels));
        }
        labels
    }

    fn finish_slots(&self, slots: Vec<Option<Slot>>, mut out: Option<&mut Vec<(String, String)>>) {
        for (plugin, slot) in self.plugins.iter().zip(slots) {
            let (Some(slot), Some(on_close)) = (slot, plugin.on_close) else {
                continue;
            };
            let mut collected = Collected {
                labels: Vec::new(),
                given: 0,
                keep: out.is_some(),
            };
            let sink = synack_label_sink {
                ctx: (&mut collected as *mut Collected).cast(),
                add: Some(sink_add),
            };
            // SAFETY: the plugin's callback with its own state; the sink and
            // its context live through the call.
            unsafe { on_close(slot.state, &sink) };
            if let Some(out) = out.as_deref_mut() {
                out.append(&mut collected.labels);
            }
        }
    }
}

impl Drop for PluginHost {
    /// Closes every connection still open (dropping the labels), so plugins
    /// free their states before they are unloaded.
    fn drop(&mut self) {
        let conns: Vec<_> = self.conns.drain().collect();
        for (_, slots) in conns {
            self.finish_slots(slots, None);
        }
    }
}
