//! Controlling a simulation from inside it.

use crate::node::NodeBackend;
use crate::world::World;
use std::sync::Arc;
use std::time::Duration;

/// A node operation requested from inside the simulation.
pub(crate) enum Control {
    Crash(u32),
    Restart(u32),
    Pause(u32),
    Resume(u32),
}

/// The simulation running the current task, seen from inside: crash,
/// restart, pause and resume nodes, partition and clog the network, read
/// global virtual time.
///
/// Network faults take effect at once. Node requests take effect when the
/// calling task's current poll ends (before any other task runs), so a client can write
/// `handle.crash("db-1"); brisk::task::yield_now().await;` and know the
/// node is down afterwards.
///
/// ```
/// use std::time::Duration;
/// let mut sim = brisk::sim::Sim::builder().seed(1).build();
/// sim.node("db").init(|| async { std::future::pending::<()>().await });
/// let client = sim.client("c", async {
///     let sim = brisk::sim::handle();
///     brisk::time::sleep(Duration::from_secs(1)).await;
///     sim.crash("db");
///     brisk::task::yield_now().await;
///     sim.restart("db");
///     sim.now()
/// });
/// sim.run().unwrap();
/// assert_eq!(client.output(), Duration::from_secs(1));
/// ```
#[derive(Clone)]
pub struct SimHandle {
    world: Arc<World>,
    name: Arc<str>,
}

/// The current simulation.
///
/// # Panics
/// Outside a simulated node or client; see [`try_handle`].
#[track_caller]
pub fn handle() -> SimHandle {
    match try_handle() {
        Some(h) => h,
        None => panic!("{}", crate::error::HANDLE_OUTSIDE_SIM),
    }
}

/// The current simulation, or `None` outside one.
pub fn try_handle() -> Option<SimHandle> {
    brisk_core::context::with_current(|h| {
        h.backend()
            .as_any()
            .downcast_ref::<NodeBackend>()
            .map(|n| SimHandle {
                world: n.world.clone(),
                name: n.name.clone(),
            })
    })
    .flatten()
}

impl SimHandle {
    #[track_caller]
    fn request(&self, name: &str, make: fn(u32) -> Control, client_ok: bool) {
        let mut st = self.world.state.lock();
        let Some(i) = st.nodes.iter().position(|n| &*n.name == name) else {
            drop(st);
            panic!("{} (node \"{name}\")", crate::error::UNKNOWN_NODE);
        };
        if !client_ok && st.nodes[i].is_client {
            drop(st);
            panic!("{} (node \"{name}\")", crate::error::CRASH_CLIENT);
        }
        st.controls.push(make(i as u32));
    }

    /// Crashes node `name` after the current poll: see [`Sim::crash`](crate::Sim::crash).
    ///
    /// # Panics
    /// If no node has that name, or it is a client.
    #[track_caller]
    pub fn crash(&self, name: &str) {
        self.request(name, Control::Crash, false);
    }

    /// Restarts node `name` after the current poll: see [`Sim::restart`](crate::Sim::restart).
    ///
    /// # Panics
    /// If no node has that name, or it is a client.
    #[track_caller]
    pub fn restart(&self, name: &str) {
        self.request(name, Control::Restart, false);
    }

    /// Pauses node `name` after the current poll: see [`Sim::pause`](crate::Sim::pause).
    ///
    /// # Panics
    /// If no node has that name.
    #[track_caller]
    pub fn pause(&self, name: &str) {
        self.request(name, Control::Pause, true);
    }

    /// Resumes node `name` after the current poll: see [`Sim::resume`](crate::Sim::resume).
    ///
    /// # Panics
    /// If no node has that name.
    #[track_caller]
    pub fn resume(&self, name: &str) {
        self.request(name, Control::Resume, true);
    }

    /// Partitions nodes `a` and `b` now: see [`Sim::partition`](crate::Sim::partition).
    ///
    /// # Panics
    /// If no node has one of the names.
    #[track_caller]
    pub fn partition(&self, a: &str, b: &str) {
        crate::net::partition(&self.world, a, b, false);
    }

    /// Cuts traffic from `from` to `to` now: see
    /// [`Sim::partition_oneway`](crate::Sim::partition_oneway).
    ///
    /// # Panics
    /// If no node has one of the names.
    #[track_caller]
    pub fn partition_oneway(&self, from: &str, to: &str) {
        crate::net::partition(&self.world, from, to, true);
    }

    /// Heals the link between `a` and `b` now: see [`Sim::heal`](crate::Sim::heal).
    ///
    /// # Panics
    /// If no node has one of the names.
    #[track_caller]
    pub fn heal(&self, a: &str, b: &str) {
        crate::net::heal(&self.world, a, b);
    }

    /// Removes every partition now: see [`Sim::heal_all`](crate::Sim::heal_all).
    pub fn heal_all(&self) {
        crate::net::heal_all(&self.world);
    }

    /// Holds node `name`'s traffic now: see [`Sim::clog`](crate::Sim::clog).
    ///
    /// # Panics
    /// If no node has that name.
    #[track_caller]
    pub fn clog(&self, name: &str) {
        crate::net::clog(&self.world, name, true);
    }

    /// Releases node `name`'s traffic now: see [`Sim::unclog`](crate::Sim::unclog).
    ///
    /// # Panics
    /// If no node has that name.
    #[track_caller]
    pub fn unclog(&self, name: &str) {
        crate::net::clog(&self.world, name, false);
    }

    /// Swizzle-clog (after FoundationDB's simulator): clogs `nodes` one at
    /// a time in a random order, `step` apart, then unclogs them one at a
    /// time in another random order, `step` apart. Connections between
    /// them stall in changing patterns and must all recover. The order is
    /// drawn from the calling node's `brisk::rand`, so it is a function of
    /// the seed. Dropping the future part-way leaves the nodes it clogged
    /// clogged: [`unclog`](SimHandle::unclog) them.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut sim = brisk::sim::Sim::builder().seed(3).build();
    /// for n in ["a", "b", "c"] {
    ///     sim.node(n).init(|| async {});
    /// }
    /// sim.client("chaos", async {
    ///     let sim = brisk::sim::handle();
    ///     sim.swizzle_clog(&["a", "b", "c"], Duration::from_secs(1)).await;
    ///     sim.now()
    /// });
    /// sim.run().unwrap();
    /// assert_eq!(sim.now(), Duration::from_secs(6));
    /// ```
    ///
    /// # Panics
    /// If no node has one of the names (when called, before awaiting).
    #[track_caller]
    pub fn swizzle_clog(
        &self,
        nodes: &[&str],
        step: Duration,
    ) -> impl std::future::Future<Output = ()> + 'static {
        let mut order: Vec<u32> = {
            let st = self.world.state.lock();
            nodes.iter().map(|n| crate::net::index(&st, n)).collect()
        };
        let world = self.world.clone();
        async move {
            brisk_core::rand::shuffle(&mut order);
            for &i in &order {
                crate::net::clog_index(&world, i, true);
                brisk_core::time::sleep(step).await;
            }
            brisk_core::rand::shuffle(&mut order);
            for &i in &order {
                crate::net::clog_index(&world, i, false);
                brisk_core::time::sleep(step).await;
            }
        }
    }

    /// Sets the link between `a` and `b`: see [`Sim::set_link`](crate::Sim::set_link).
    ///
    /// # Panics
    /// If no node has one of the names.
    #[track_caller]
    pub fn set_link(&self, a: &str, b: &str, link: crate::Link) {
        crate::net::set_link(&self.world, a, b, link);
    }

    /// Global virtual time since the simulation started (node clocks may be
    /// skewed from it; `brisk::time::Instant::now()` reads the node's).
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.world.state.lock().now)
    }

    /// The simulation's seed.
    pub fn seed(&self) -> u64 {
        self.world.state.lock().seed
    }

    /// The IP address of node `name` on the simulated network, or `None`
    /// if there is no such node: see [`Sim::ip`](crate::Sim::ip).
    pub fn ip(&self, name: &str) -> Option<std::net::IpAddr> {
        let st = self.world.state.lock();
        let i = st.nodes.iter().position(|n| &*n.name == name)?;
        Some(st.net.ip(i as u32))
    }

    /// The disk of node `name`, to inject faults from inside the
    /// simulation: see [`Sim::disk`](crate::Sim::disk). Takes effect at once.
    ///
    /// # Panics
    /// If no node has that name.
    #[track_caller]
    pub fn disk(&self, name: &str) -> crate::SimDisk<'_> {
        let i = self
            .world
            .state
            .lock()
            .nodes
            .iter()
            .position(|n| &*n.name == name);
        let Some(i) = i else {
            panic!("{} (node \"{name}\")", crate::error::UNKNOWN_NODE);
        };
        crate::SimDisk {
            world: &self.world,
            node: i as u32,
        }
    }

    /// The name of the node running the current task.
    pub fn node_name(&self) -> &str {
        &self.name
    }
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("node", &self.name)
            .finish()
    }
}
