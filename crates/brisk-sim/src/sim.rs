//! `Sim`: building a simulation, its nodes and clients, and running it.

use crate::deadline::Deadline;
use crate::disk::SimDisk;
use crate::error::{self, SimError};
use crate::handle::Control;
use crate::net::{Link, NetConfig};
use crate::node::NodeBackend;
use crate::trace::{first_divergence, TraceEvent};
use crate::world::{Clock, NodeInfo, Scheduler, World};
use brisk_core::context;
use brisk_core::rand::{mix, Rng};
use brisk_core::runtime::Handle;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

type InitFn = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>>>;

/// Configures a [`Sim`].
///
/// ```
/// use brisk::sim::{Scheduler, Sim};
/// let sim = Sim::builder()
///     .seed(0x2a)
///     .scheduler(Scheduler::Pct { depth: 3 })
///     .tick(std::time::Duration::from_nanos(100))
///     .build();
/// assert_eq!(sim.seed(), 0x2a);
/// ```
#[derive(Clone, Debug)]
#[must_use = "a Builder does nothing until you call `build`"]
pub struct Builder {
    seed: u64,
    scheduler: Scheduler,
    tick: Duration,
    time_limit: Option<Duration>,
    step_limit: Option<u64>,
    trace: bool,
    net: NetConfig,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            seed: 0,
            scheduler: Scheduler::Random,
            tick: Duration::from_micros(1),
            time_limit: None,
            step_limit: None,
            trace: false,
            net: NetConfig::new(),
        }
    }
}

impl Builder {
    /// The seed every decision derives from (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// How the next task is picked (default [`Scheduler::Random`]).
    ///
    /// # Panics
    /// If `Scheduler::Pct` has `depth: 0`.
    #[track_caller]
    pub fn scheduler(mut self, scheduler: Scheduler) -> Self {
        if let Scheduler::Pct { depth } = scheduler {
            assert!(depth >= 1, "{}", error::BAD_PCT_DEPTH);
        }
        self.scheduler = scheduler;
        self
    }

    /// The resolution of virtual time: timer deadlines are rounded up to a
    /// multiple of it (default 1 µs).
    ///
    /// # Panics
    /// If `tick` is zero or above 1 µs.
    #[track_caller]
    pub fn tick(mut self, tick: Duration) -> Self {
        assert!(
            !tick.is_zero() && tick <= Duration::from_micros(1),
            "{}",
            error::BAD_TICK
        );
        self.tick = tick;
        self
    }

    /// Fails the run with [`SimError::TimeLimit`] if the clients have not
    /// finished by this much global virtual time (default: no limit).
    ///
    /// Code that never lets virtual time pass — a loop of `yield_now`, a
    /// retry without a sleep — is not stopped by it: see
    /// [`step_limit`](Builder::step_limit).
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }

    /// Fails the run with [`SimError::StepLimit`] once this many task polls
    /// ([`Sim::steps`], counted from the start of the simulation) have run
    /// without the clients finishing (default: no limit). It catches livelocks — tasks that keep each other busy while
    /// virtual time stands still — which no time limit can.
    ///
    /// ```
    /// let mut sim = brisk::sim::Sim::builder().step_limit(1_000).build();
    /// sim.client("spinner", async {
    ///     loop {
    ///         brisk::task::yield_now().await; // time never moves
    ///     }
    /// });
    /// let err = sim.run().unwrap_err();
    /// assert!(matches!(err, brisk::sim::SimError::StepLimit { limit: 1_000, .. }));
    /// ```
    pub fn step_limit(mut self, steps: u64) -> Self {
        self.step_limit = Some(steps);
        self
    }

    /// The simulated network's settings (default [`NetConfig::new`]): the
    /// default link's latency and faults, TCP's timeout and buffers.
    pub fn net(mut self, net: NetConfig) -> Self {
        self.net = net;
        self
    }

    /// Records every scheduling decision; read them with [`Sim::trace`].
    pub fn record_trace(mut self, on: bool) -> Self {
        self.trace = on;
        self
    }

    /// Builds the simulation.
    pub fn build(&self) -> Sim {
        let tick = self.tick.as_nanos() as u64;
        Sim {
            world: Arc::new(World::new(self.seed, tick, self.scheduler, self.net)),
            seed: self.seed,
            nodes: Vec::new(),
            clients_pending: Rc::new(Cell::new(0)),
            time_limit: self.time_limit,
            step_limit: self.step_limit,
            trace: self.trace.then(Vec::new),
        }
    }

    /// Runs the simulation set up by `setup` twice with this builder's seed,
    /// recording every scheduling decision, and reports the first step where
    /// the runs differ (virtual time, node, task id and name, spawn
    /// location). Returns the first run's error if the runs agree but fail.
    ///
    /// ```
    /// use std::time::Duration;
    /// let result = brisk::sim::Sim::builder().seed(9).check_determinism(|sim| {
    ///     sim.node("db").init(|| async {
    ///         brisk::time::sleep(Duration::from_millis(brisk::rand::range(1..10u64))).await;
    ///     });
    ///     sim.client("c", async { brisk::time::sleep(Duration::from_millis(5)).await });
    /// });
    /// assert!(result.is_ok());
    /// ```
    pub fn check_determinism(&self, setup: impl Fn(&mut Sim)) -> Result<(), SimError> {
        let run = || {
            let mut sim = self.clone().record_trace(true).build();
            setup(&mut sim);
            let result = sim.run();
            (result, sim.trace.take().unwrap_or_default())
        };
        let (first, a) = run();
        let (second, b) = run();
        if let Some(d) = first_divergence(self.seed, &a, &b) {
            return Err(SimError::Divergence(Box::new(d)));
        }
        first.and(second)
    }
}

/// A node of the simulation, as the test drives it.
struct Slot {
    name: Arc<str>,
    handle: Option<Handle>,
    init: Option<InitFn>,
    ip: Option<IpAddr>,
}

/// A deterministic simulation: many nodes, one thread, one seed.
///
/// Every node has its own runtime as far as its code can tell — its own
/// tasks and task registry, its own clock (optionally skewed and
/// drifting), its own seeded `brisk::rand` generator — while one scheduler,
/// seeded by the simulation's seed, picks which ready task of which node
/// runs next. Time is virtual and event-driven: when no task is ready, the
/// clock jumps to the next timer.
///
/// ```
/// use std::time::Duration;
/// use brisk::sim::Sim;
///
/// let mut sim = Sim::builder().seed(7).build();
/// let (tx, mut rx) = brisk::sync::mpsc::channel::<u32>(8);
/// sim.node("sensor").init(move || {
///     let tx = tx.clone();
///     async move {
///         for i in 0..3 {
///             brisk::time::sleep(Duration::from_secs(60)).await;
///             tx.send(i).await.unwrap();
///         }
///     }
/// });
/// let client = sim.client("reader", async move {
///     let mut got = Vec::new();
///     while let Some(v) = rx.recv().await {
///         got.push(v);
///         if got.len() == 3 {
///             break;
///         }
///     }
///     (got, brisk::time::Instant::now().since_origin())
/// });
/// sim.run().unwrap();
/// let (got, at) = client.output();
/// assert_eq!(got, [0, 1, 2]);
/// assert_eq!(at, Duration::from_secs(180)); // three simulated minutes, instantly
/// ```
pub struct Sim {
    world: Arc<World>,
    seed: u64,
    nodes: Vec<Slot>,
    clients_pending: Rc<Cell<usize>>,
    time_limit: Option<Duration>,
    step_limit: Option<u64>,
    trace: Option<Vec<TraceEvent>>,
}

/// Configures a node before it starts: see [`Sim::node`].
#[must_use = "a node starts only when `init` (or `client`) is called"]
pub struct NodeBuilder<'a> {
    sim: &'a mut Sim,
    name: String,
    ip: Option<IpAddr>,
    clock: Clock,
}

impl NodeBuilder<'_> {
    /// The node's IP address on the simulated network (default: the next
    /// free `10.0.x.y`, in node creation order). Other nodes reach it by
    /// this address or by the node's name.
    ///
    /// # Panics
    /// In `init` / `client`, if another node has this address.
    pub fn ip(mut self, ip: impl Into<IpAddr>) -> Self {
        self.ip = Some(ip.into());
        self
    }

    /// Puts the node's clock `skew` ahead of global virtual time.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock.skew_ns = skew.as_nanos().min(u128::from(u64::MAX)) as u64;
        self
    }

    /// Makes the node's clock run `ppm` parts per million fast (or slow,
    /// when negative) relative to global virtual time.
    ///
    /// # Panics
    /// If `ppm` is ±1,000,000 or beyond.
    #[track_caller]
    pub fn clock_drift_ppm(mut self, ppm: i32) -> Self {
        assert!(ppm.unsigned_abs() < 1_000_000, "{}", error::BAD_DRIFT);
        self.clock.drift_ppm = i64::from(ppm);
        self
    }

    /// Starts the node: `init` runs now as the node's first task, and again
    /// after every [`restart`](Sim::restart). Everything the node keeps in
    /// memory should be created inside the future `init` returns, so a
    /// crash loses it.
    ///
    /// # Panics
    /// If a node with this name exists.
    #[track_caller]
    pub fn init<F, Fut>(self, init: F)
    where
        F: Fn() -> Fut + 'static,
        Fut: Future<Output = ()> + 'static,
    {
        let init: InitFn = Rc::new(move || Box::pin(init()));
        let i = self.sim.add_node(self.name, self.ip, self.clock, false);
        self.sim.nodes[i].init = Some(init);
        self.sim.start_node(i);
    }

    /// Starts the node as a client running `future`: [`Sim::run`] returns
    /// once every client finished, and [`Client::output`] hands back the
    /// future's output.
    ///
    /// # Panics
    /// If a node with this name exists.
    #[track_caller]
    pub fn client<Fut>(self, future: Fut) -> Client<Fut::Output>
    where
        Fut: Future + 'static,
        Fut::Output: 'static,
    {
        let i = self.sim.add_node(self.name, self.ip, self.clock, true);
        let slot: Rc<RefCell<Option<Fut::Output>>> = Rc::new(RefCell::new(None));
        let pending = self.sim.clients_pending.clone();
        pending.set(pending.get() + 1);
        let out = slot.clone();
        let handle = self.sim.nodes[i]
            .handle
            .clone()
            .expect("a new node is alive");
        let name = self.sim.nodes[i].name.clone();
        let id = {
            let _enter = context::enter(handle);
            brisk_core::task::Builder::new()
                .name(&name)
                .spawn_local(async move {
                    let v = future.await;
                    *out.borrow_mut() = Some(v);
                    pending.set(pending.get() - 1);
                })
                .id()
        };
        self.sim
            .world
            .state
            .lock()
            .client_roots
            .push((i as u32, id.as_u64()));
        Client { slot, name }
    }
}

/// A client's future, run by a [`Sim`]: read its output after the run.
pub struct Client<T> {
    slot: Rc<RefCell<Option<T>>>,
    name: Arc<str>,
}

impl<T> Client<T> {
    /// The client's output, once it finished (taken: later calls return
    /// `None`).
    pub fn try_output(&self) -> Option<T> {
        self.slot.borrow_mut().take()
    }

    /// The client's output.
    ///
    /// # Panics
    /// If the client has not finished, or its output was already taken.
    #[track_caller]
    pub fn output(&self) -> T {
        match self.try_output() {
            Some(v) => v,
            None => panic!(
                "{} (client \"{}\")",
                error::CLIENT_OUTPUT_MISSING,
                self.name
            ),
        }
    }
}

impl<T> std::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("name", &self.name)
            .field("finished", &self.slot.borrow().is_some())
            .finish()
    }
}

impl Sim {
    /// A builder with seed 0 and the uniform random scheduler.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The simulation's seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Global virtual time since the simulation started.
    pub fn now(&self) -> Duration {
        Duration::from_nanos(self.world.state.lock().now)
    }

    /// Tasks polled so far.
    pub fn steps(&self) -> u64 {
        self.world.state.lock().steps
    }

    /// Every scheduling decision so far, if the builder asked for
    /// [`record_trace`](Builder::record_trace).
    pub fn trace(&self) -> Option<&[TraceEvent]> {
        self.trace.as_deref()
    }

    /// The names of all nodes and clients, in creation order.
    pub fn node_names(&self) -> Vec<&str> {
        self.nodes.iter().map(|n| &*n.name).collect()
    }

    /// The IP address of node `name` on the simulated network (given with
    /// [`NodeBuilder::ip`], or assigned), or `None` if there is no such node.
    pub fn ip(&self, name: &str) -> Option<IpAddr> {
        self.nodes
            .iter()
            .find(|n| &*n.name == name)
            .and_then(|n| n.ip)
    }

    /// How many `brisk::net` sockets (listeners, streams, UDP sockets)
    /// node `name` holds open right now: a leak check. A crash closes them
    /// all.
    ///
    /// # Panics
    /// If no node has that name.
    #[track_caller]
    pub fn open_sockets(&self, name: &str) -> usize {
        let i = self.index(name);
        self.world.state.lock().net.registrations(i as u32)
    }

    /// The disk of node `name`: inject faults ([`SimDisk::fail_with`],
    /// [`SimDisk::short_reads`], [`SimDisk::latency`]) and see what the
    /// last crash did. See the [`disk`](crate::disk) module for the model.
    ///
    /// # Panics
    /// If no node has that name.
    #[track_caller]
    pub fn disk(&self, name: &str) -> SimDisk<'_> {
        let i = self.index(name);
        SimDisk {
            world: &self.world,
            node: i as u32,
        }
    }

    /// Starts configuring node `name`; finish with
    /// [`init`](NodeBuilder::init) (a server) or
    /// [`client`](NodeBuilder::client).
    pub fn node(&mut self, name: impl Into<String>) -> NodeBuilder<'_> {
        NodeBuilder {
            sim: self,
            name: name.into(),
            ip: None,
            clock: Clock::default(),
        }
    }

    /// Adds a client node named `name` running `future`; short for
    /// `sim.node(name).client(future)`.
    ///
    /// # Panics
    /// If a node with this name exists.
    #[track_caller]
    pub fn client<Fut>(&mut self, name: impl Into<String>, future: Fut) -> Client<Fut::Output>
    where
        Fut: Future + 'static,
        Fut::Output: 'static,
    {
        self.node(name).client(future)
    }

    #[track_caller]
    fn add_node(&mut self, name: String, ip: Option<IpAddr>, clock: Clock, client: bool) -> usize {
        if self.nodes.iter().any(|n| *n.name == *name) {
            panic!("{} (name \"{name}\")", error::NODE_NAME_REUSED);
        }
        let name: Arc<str> = name.into();
        let i = self.nodes.len();
        let ip = match self.world.state.lock().net.add_node(ip) {
            Ok(ip) => ip,
            Err(ip) => panic!("{} (node \"{name}\", address {ip})", error::IP_REUSED),
        };
        let mut st = self.world.state.lock();
        let disk_rng = Rng::from_seed(mix(
            mix(st.seed, crate::buggify::fnv(name.as_bytes())),
            0xD15C,
        ));
        st.nodes.push(NodeInfo {
            name: name.clone(),
            gen: 0,
            alive: true,
            paused: false,
            is_client: client,
            parked: Vec::new(),
            clock,
            disk: crate::disk::model::Disk::new(disk_rng),
            disk_faults: crate::disk::Faults::default(),
        });
        drop(st);
        let backend = NodeBackend::new(self.world.clone(), i as u32, 0, name.clone());
        self.nodes.push(Slot {
            name,
            handle: Some(Handle::new(Arc::new(backend))),
            init: None,
            ip: Some(ip),
        });
        i
    }

    /// Spawns node `i`'s init future as its first task.
    fn start_node(&mut self, i: usize) {
        let (Some(handle), Some(init)) = (self.nodes[i].handle.clone(), self.nodes[i].init.clone())
        else {
            return;
        };
        let name = self.nodes[i].name.clone();
        let _enter = context::enter(handle);
        drop(
            brisk_core::task::Builder::new()
                .name(&name)
                .spawn_local(init()),
        );
    }

    #[track_caller]
    fn index(&self, name: &str) -> usize {
        match self.nodes.iter().position(|n| &*n.name == name) {
            Some(i) => i,
            None => panic!("{} (node \"{name}\")", error::UNKNOWN_NODE),
        }
    }

    /// Crashes node `name`: every task of the node is dropped, in place and
    /// in spawn order, its timers are removed and wake-ups of its old tasks
    /// are ignored. Whatever the node held in memory is gone; it stays down
    /// until [`restart`](Sim::restart). Crashing a crashed node does nothing.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// struct Guard(Arc<AtomicBool>);
    /// impl Drop for Guard {
    ///     fn drop(&mut self) { self.0.store(true, Ordering::SeqCst) }
    /// }
    /// let dropped = Arc::new(AtomicBool::new(false));
    /// let mut sim = brisk::sim::Sim::builder().build();
    /// let flag = dropped.clone();
    /// sim.node("db").init(move || {
    ///     let guard = Guard(flag.clone());
    ///     async move {
    ///         let _guard = guard;
    ///         std::future::pending::<()>().await
    ///     }
    /// });
    /// sim.run_for(std::time::Duration::from_secs(1)).unwrap();
    /// sim.crash("db");
    /// assert!(dropped.load(Ordering::SeqCst));
    /// ```
    ///
    /// # Panics
    /// If no node has that name, or it is a client.
    #[track_caller]
    pub fn crash(&mut self, name: &str) {
        let i = self.index(name);
        self.crash_index(i);
    }

    #[track_caller]
    fn crash_index(&mut self, i: usize) {
        let name = self.nodes[i].name.clone();
        let purged = {
            let mut st = self.world.state.lock();
            let n = &mut st.nodes[i];
            if n.is_client {
                drop(st);
                panic!("{} (node \"{name}\")", error::CRASH_CLIENT);
            }
            if !n.alive {
                return;
            }
            n.alive = false;
            n.paused = false;
            n.gen += 1;
            n.disk.crash();
            let now = st.now;
            let net = st.net.crash_node(i as u32, now);
            (st.purge_node(i as u32), net)
        };
        // Wakers of the node's own sockets: their tasks are of a dead
        // generation, so waking them only releases them.
        for w in purged.1 {
            w.wake();
        }
        drop(purged.0);
        let Some(handle) = self.nodes[i].handle.take() else {
            return;
        };
        let registry = handle.backend().registry();
        registry.close();
        let mut tasks = registry.tasks();
        tasks.sort_by_key(|t| t.as_ref().id());
        let _enter = context::enter(handle.clone());
        for task in tasks {
            // SAFETY: only local tasks need their owner thread here. A
            // node's local tasks can only be spawned on the thread that
            // built its backend (`NodeBackend::local_scheduler` checks),
            // and every backend is built by this `Sim`, on this thread:
            // `Sim` is neither `Send` nor `Sync`. (Other tasks may have been
            // spawned through a `Handle` from any thread; they are `Send`.)
            unsafe { task.shutdown_in_place() };
        }
    }

    /// Restarts node `name`: crashes it if it is up, then runs its `init`
    /// again on a fresh runtime (new tasks, new registry, the same clock).
    ///
    /// # Panics
    /// If no node has that name, or it is a client.
    #[track_caller]
    pub fn restart(&mut self, name: &str) {
        let i = self.index(name);
        self.restart_index(i);
    }

    #[track_caller]
    fn restart_index(&mut self, i: usize) {
        self.crash_index(i);
        let gen = {
            let mut st = self.world.state.lock();
            st.nodes[i].alive = true;
            st.nodes[i].gen
        };
        let backend = NodeBackend::new(
            self.world.clone(),
            i as u32,
            gen,
            self.nodes[i].name.clone(),
        );
        self.nodes[i].handle = Some(Handle::new(Arc::new(backend)));
        self.start_node(i);
    }

    /// Pauses node `name`: its tasks are not scheduled and its timers do not
    /// fire until [`resume`](Sim::resume) (its clock keeps going, as in a
    /// long GC pause or a stopped VM).
    ///
    /// # Panics
    /// If no node has that name.
    #[track_caller]
    pub fn pause(&mut self, name: &str) {
        let i = self.index(name);
        self.pause_index(i);
    }

    fn pause_index(&mut self, i: usize) {
        let mut st = self.world.state.lock();
        if st.nodes[i].paused || !st.nodes[i].alive {
            return;
        }
        st.nodes[i].paused = true;
        // Tasks already woken wait with the ones woken from now on.
        let mut k = 0;
        while k < st.ready.len() {
            if st.ready[k].node == i as u32 {
                let r = st.ready.remove(k);
                st.nodes[i].parked.push(r.task);
            } else {
                k += 1;
            }
        }
    }

    /// Resumes a paused node: its woken tasks become ready again and its
    /// overdue timers fire.
    ///
    /// # Panics
    /// If no node has that name.
    #[track_caller]
    pub fn resume(&mut self, name: &str) {
        let i = self.index(name);
        self.resume_index(i);
    }

    fn resume_index(&mut self, i: usize) {
        let wakers = {
            let mut st = self.world.state.lock();
            if !st.nodes[i].paused {
                return;
            }
            st.nodes[i].paused = false;
            let gen = st.nodes[i].gen;
            let parked = std::mem::take(&mut st.nodes[i].parked);
            for task in parked {
                st.ready.push(crate::world::Ready {
                    node: i as u32,
                    gen,
                    task,
                });
            }
            st.fire_due(Some(i as u32))
        };
        for w in wakers {
            w.wake();
        }
    }

    fn apply_controls(&mut self) {
        loop {
            let controls = std::mem::take(&mut self.world.state.lock().controls);
            if controls.is_empty() {
                return;
            }
            for c in controls {
                match c {
                    Control::Crash(i) => self.crash_index(i as usize),
                    Control::Restart(i) => self.restart_index(i as usize),
                    Control::Pause(i) => self.pause_index(i as usize),
                    Control::Resume(i) => self.resume_index(i as usize),
                }
            }
        }
    }

    /// Cuts the network between nodes `a` and `b`, both ways: TCP segments
    /// are held (and time out after [`NetConfig::tcp_timeout`]), UDP
    /// datagrams are dropped, until [`heal`](Sim::heal).
    ///
    /// ```
    /// let mut sim = brisk::sim::Sim::builder().build();
    /// sim.node("a").init(|| async {});
    /// sim.node("b").init(|| async {});
    /// sim.partition("a", "b");
    /// sim.heal("a", "b");
    /// ```
    ///
    /// # Panics
    /// If no node has one of the names.
    #[track_caller]
    pub fn partition(&mut self, a: &str, b: &str) {
        crate::net::partition(&self.world, a, b, false);
    }

    /// Cuts traffic from `from` to `to` only (replies still flow).
    ///
    /// # Panics
    /// If no node has one of the names.
    #[track_caller]
    pub fn partition_oneway(&mut self, from: &str, to: &str) {
        crate::net::partition(&self.world, from, to, true);
    }

    /// Restores traffic between `a` and `b`, both ways; held TCP segments
    /// move again (after a fresh latency).
    ///
    /// # Panics
    /// If no node has one of the names.
    #[track_caller]
    pub fn heal(&mut self, a: &str, b: &str) {
        crate::net::heal(&self.world, a, b);
    }

    /// Removes every partition (clogs stay).
    pub fn heal_all(&mut self) {
        crate::net::heal_all(&self.world);
    }

    /// Holds all traffic to and from node `name` until
    /// [`unclog`](Sim::unclog), like a partition from every other node.
    ///
    /// # Panics
    /// If no node has that name.
    #[track_caller]
    pub fn clog(&mut self, name: &str) {
        crate::net::clog(&self.world, name, true);
    }

    /// Releases a node's traffic held by [`clog`](Sim::clog).
    ///
    /// # Panics
    /// If no node has that name.
    #[track_caller]
    pub fn unclog(&mut self, name: &str) {
        crate::net::clog(&self.world, name, false);
    }

    /// Sets the link between nodes `a` and `b` (both ways), overriding the
    /// default of [`NetConfig::link`].
    ///
    /// # Panics
    /// If no node has one of the names.
    #[track_caller]
    pub fn set_link(&mut self, a: &str, b: &str, link: Link) {
        crate::net::set_link(&self.world, a, b, link);
    }

    /// Runs until every client finished.
    ///
    /// # Errors
    /// [`SimError::ClientPanicked`] if a client panicked,
    /// [`SimError::Deadlock`] if clients are unfinished and nothing can
    /// happen any more (the report lists what every task waits on), and
    /// [`SimError::TimeLimit`] past the builder's time limit.
    ///
    /// # Panics
    /// Inside a Brisk runtime or task, or from inside a simulation.
    #[track_caller]
    pub fn run(&mut self) -> Result<(), SimError> {
        self.run_inner(None)
    }

    /// Runs until global virtual time reaches `deadline`, or until a client
    /// fails. Clients that finish do not stop it.
    ///
    /// `deadline` is a [`Duration`] since the simulation started or a
    /// [`brisk::time::Instant`](brisk_core::time::Instant) of the simulation
    /// (see [`Deadline`] for how an instant is read). A deadline that has
    /// passed runs only what is ready now, and time does not move back.
    ///
    /// # Errors
    /// [`SimError::ClientPanicked`] if a client panicked.
    ///
    /// # Panics
    /// Inside a Brisk runtime or task, or from inside a simulation.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// let mut sim = brisk::sim::Sim::builder().build();
    /// sim.run_until(Duration::from_secs(5)).unwrap();
    /// let later = brisk::time::Instant::from_origin(Duration::from_secs(8));
    /// sim.run_until(later).unwrap();
    /// assert_eq!(sim.now(), Duration::from_secs(8));
    /// ```
    #[track_caller]
    pub fn run_until(&mut self, deadline: impl Into<Deadline>) -> Result<(), SimError> {
        self.run_inner(Some(deadline.into().as_nanos()))
    }

    /// Runs for `duration` more of virtual time; see [`run_until`](Sim::run_until).
    ///
    /// # Errors
    /// As [`run_until`](Sim::run_until).
    ///
    /// # Panics
    /// As [`run_until`](Sim::run_until).
    #[track_caller]
    pub fn run_for(&mut self, duration: Duration) -> Result<(), SimError> {
        let deadline = self.now().saturating_add(duration);
        self.run_until(Deadline::after_start(deadline))
    }

    #[track_caller]
    fn run_inner(&mut self, until: Option<u64>) -> Result<(), SimError> {
        if crate::buggify::active() {
            panic!("{}", error::RUN_REENTERED);
        }
        // A worker, a `block_on` thread or a task would stall behind the
        // simulation; a blocking-pool thread (a runtime is current, but no
        // scheduler runs there) may drive one.
        if context::is_scheduler_thread() {
            panic!("{}", error::RUN_INSIDE_RUNTIME);
        }
        let _active = crate::buggify::ActiveGuard::enter();
        let limit = self
            .time_limit
            .map(|d| d.as_nanos().min(u128::from(u64::MAX)) as u64);
        loop {
            self.apply_controls();
            if let Some((client, message)) = {
                let mut st = self.world.state.lock();
                (!st.failures.is_empty()).then(|| st.failures.remove(0))
            } {
                return Err(SimError::ClientPanicked { client, message });
            }
            if until.is_none() && self.clients_pending.get() == 0 {
                return Ok(());
            }
            if let Some(limit) = self.step_limit {
                if self.world.state.lock().steps >= limit {
                    return Err(SimError::StepLimit {
                        limit,
                        report: self.report(),
                    });
                }
            }
            let picked = {
                let mut st = self.world.state.lock();
                let picked = st.pick();
                if let (Some(p), Some(trace)) = (&picked, &mut self.trace) {
                    let task = p.ready.task.task();
                    trace.push(TraceEvent {
                        step: st.steps,
                        time: Duration::from_nanos(st.now),
                        node: st.nodes[p.ready.node as usize].name.clone(),
                        task: task.id().as_u64(),
                        task_name: task.name().map(Arc::from),
                        location: task.location(),
                    });
                }
                picked
            };
            if let Some(p) = picked {
                let key = p.key();
                let node = p.ready.node as usize;
                match self.nodes[node].handle.clone() {
                    Some(handle) => {
                        let _enter = context::enter(handle);
                        p.ready.task.run();
                    }
                    None => drop(p),
                }
                self.world.state.lock().after_step(Some(key));
                continue;
            }
            // Nothing is ready: jump to the next timer.
            let wakers = {
                let mut st = self.world.state.lock();
                let next = match (st.next_timer(), st.net.next_event()) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                match (until, next) {
                    (Some(u), n) if n.is_none_or(|at| at > u) => {
                        st.now = st.now.max(u);
                        return Ok(());
                    }
                    (None, None) => {
                        drop(st);
                        let report = self.report();
                        self.log_deadlock(&report);
                        return Err(SimError::Deadlock { report });
                    }
                    _ => {}
                }
                let at = next.unwrap_or(st.now);
                if let Some(limit) = limit.filter(|l| at > *l) {
                    st.now = st.now.max(limit);
                    drop(st);
                    return Err(SimError::TimeLimit {
                        limit: Duration::from_nanos(limit),
                        report: self.report(),
                    });
                }
                st.now = st.now.max(at);
                let mut wakers = st.fire_due(None);
                let now = st.now;
                wakers.extend(st.net.fire_due(now));
                wakers
            };
            for w in wakers {
                w.wake();
            }
        }
    }

    /// Logs the deadlock as a hazard in every live node's hazard log (the
    /// run fails with it as `SimError::Deadlock`, so it is not printed).
    fn log_deadlock(&self, report: &str) {
        for slot in &self.nodes {
            if let Some(h) = &slot.handle {
                let hazard = brisk_core::diag::Hazard::deadlock(
                    "the simulation's clients have not finished, but no task can run and no \
                     timer or network event is pending",
                    report.to_owned(),
                );
                h.backend().registry().diagnostics().record(hazard);
            }
        }
    }

    /// What every task of every node waits on, for error reports.
    fn report(&self) -> String {
        let mut out = String::new();
        let st_nodes: Vec<(bool, bool)> = {
            let st = self.world.state.lock();
            st.nodes.iter().map(|n| (n.alive, n.paused)).collect()
        };
        for (slot, (alive, paused)) in self.nodes.iter().zip(st_nodes) {
            let state = match (alive, paused) {
                (false, _) => " (crashed)",
                (true, true) => " (paused)",
                _ => "",
            };
            out.push_str(&format!("  node \"{}\"{state}:\n", slot.name));
            if let Some(h) = &slot.handle {
                // Every task with what it waits on and who holds it, then
                // the wait-for cycles.
                let report = brisk_core::diag::deadlock_report(h.backend().registry());
                for line in report.lines() {
                    out.push_str(&format!("  {line}\n"));
                }
            }
        }
        out
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Drop every node's tasks on this thread (the owner of their local
        // futures), then release queued wake-ups.
        for i in 0..self.nodes.len() {
            self.world.state.lock().nodes[i].is_client = false;
            self.crash_index(i);
        }
        let ready = std::mem::take(&mut self.world.state.lock().ready);
        drop(ready);
    }
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim")
            .field("seed", &self.seed)
            .field("now", &self.now())
            .field("nodes", &self.node_names())
            .finish()
    }
}
