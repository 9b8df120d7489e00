//! The synchronisation libraries under test, one per runtime family, behind
//! one trait so a scenario body is written once.
//!
//! | runtimes               | library            | mpsc (bounded)              | oneshot                       | Mutex / Semaphore            |
//! |------------------------|--------------------|-----------------------------|-------------------------------|------------------------------|
//! | `brisk_ct`, `brisk_mt` | `brisk::sync`      | `mpsc::channel`             | `oneshot::channel`            | `Mutex`, `Semaphore`         |
//! | `tokio_ct`, `tokio_mt` | `tokio::sync`      | `mpsc::channel`             | `oneshot::channel`            | `Mutex`, `Semaphore`         |
//! | `smol`                 | async-channel, async-lock | `async_channel::bounded` | `async_channel::bounded(1)` | `async_lock::{Mutex, Semaphore}` |
//!
//! Each runtime is paired with its own ecosystem's primitives, as an
//! application on that runtime would use them.

use std::future::Future;

/// The primitives a sync scenario needs.
pub(crate) trait SyncLib: 'static {
    /// Sending half of a bounded multi-producer channel.
    type Tx<T: Send + 'static>: Clone + Send + Sync + 'static;
    /// Receiving half of a bounded multi-producer channel.
    type Rx<T: Send + 'static>: Send + 'static;
    /// Sending half of a one-shot channel.
    type OneTx<T: Send + 'static>: Send + 'static;
    /// Receiving half of a one-shot channel.
    type OneRx<T: Send + 'static>: Send + 'static;
    /// An async mutex.
    type Mutex<T: Send + 'static>: Send + Sync + 'static;
    /// An async counting semaphore.
    type Semaphore: Send + Sync + 'static;

    /// A bounded channel with room for `cap` messages.
    fn channel<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>);
    /// Sends `v`, waiting for room; false if the receiver is gone.
    fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> impl Future<Output = bool> + Send + '_;
    /// Receives the next message; `None` once every sender is gone.
    fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>)
        -> impl Future<Output = Option<T>> + Send + '_;

    /// A one-shot channel.
    fn oneshot<T: Send + 'static>() -> (Self::OneTx<T>, Self::OneRx<T>);
    /// Completes the one-shot channel with `v`.
    fn one_send<T: Send + 'static>(tx: Self::OneTx<T>, v: T);
    /// Waits for the one-shot value.
    fn one_recv<T: Send + 'static>(rx: Self::OneRx<T>) -> impl Future<Output = Option<T>> + Send;

    /// A mutex around `v`.
    fn mutex<T: Send + 'static>(v: T) -> Self::Mutex<T>;
    /// Locks `m`, adds one, unlocks.
    fn increment(m: &Self::Mutex<u64>) -> impl Future<Output = ()> + Send + '_;
    /// Reads the value under the lock.
    fn read(m: &Self::Mutex<u64>) -> impl Future<Output = u64> + Send + '_;

    /// A semaphore with `permits` permits.
    fn semaphore(permits: usize) -> Self::Semaphore;
    /// Acquires one permit and releases it at once.
    fn acquire_release(s: &Self::Semaphore) -> impl Future<Output = ()> + Send + '_;
}

/// `brisk::sync`.
pub(crate) struct BriskSync;

impl SyncLib for BriskSync {
    type Tx<T: Send + 'static> = brisk::sync::mpsc::Sender<T>;
    type Rx<T: Send + 'static> = brisk::sync::mpsc::Receiver<T>;
    type OneTx<T: Send + 'static> = brisk::sync::oneshot::Sender<T>;
    type OneRx<T: Send + 'static> = brisk::sync::oneshot::Receiver<T>;
    type Mutex<T: Send + 'static> = brisk::sync::Mutex<T>;
    type Semaphore = brisk::sync::Semaphore;

    fn channel<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        brisk::sync::mpsc::channel(cap)
    }
    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> bool {
        tx.send(v).await.is_ok()
    }
    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await
    }
    fn oneshot<T: Send + 'static>() -> (Self::OneTx<T>, Self::OneRx<T>) {
        brisk::sync::oneshot::channel()
    }
    fn one_send<T: Send + 'static>(tx: Self::OneTx<T>, v: T) {
        let _ = tx.send(v);
    }
    async fn one_recv<T: Send + 'static>(rx: Self::OneRx<T>) -> Option<T> {
        rx.await.ok()
    }
    fn mutex<T: Send + 'static>(v: T) -> Self::Mutex<T> {
        brisk::sync::Mutex::new(v)
    }
    async fn increment(m: &Self::Mutex<u64>) {
        *m.lock().await += 1;
    }
    async fn read(m: &Self::Mutex<u64>) -> u64 {
        *m.lock().await
    }
    fn semaphore(permits: usize) -> Self::Semaphore {
        brisk::sync::Semaphore::new(permits)
    }
    async fn acquire_release(s: &Self::Semaphore) {
        drop(s.acquire().await.expect("semaphore open"));
    }
}

/// `tokio::sync`.
pub(crate) struct TokioSync;

impl SyncLib for TokioSync {
    type Tx<T: Send + 'static> = tokio::sync::mpsc::Sender<T>;
    type Rx<T: Send + 'static> = tokio::sync::mpsc::Receiver<T>;
    type OneTx<T: Send + 'static> = tokio::sync::oneshot::Sender<T>;
    type OneRx<T: Send + 'static> = tokio::sync::oneshot::Receiver<T>;
    type Mutex<T: Send + 'static> = tokio::sync::Mutex<T>;
    type Semaphore = tokio::sync::Semaphore;

    fn channel<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        tokio::sync::mpsc::channel(cap)
    }
    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> bool {
        tx.send(v).await.is_ok()
    }
    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await
    }
    fn oneshot<T: Send + 'static>() -> (Self::OneTx<T>, Self::OneRx<T>) {
        tokio::sync::oneshot::channel()
    }
    fn one_send<T: Send + 'static>(tx: Self::OneTx<T>, v: T) {
        let _ = tx.send(v);
    }
    async fn one_recv<T: Send + 'static>(rx: Self::OneRx<T>) -> Option<T> {
        rx.await.ok()
    }
    fn mutex<T: Send + 'static>(v: T) -> Self::Mutex<T> {
        tokio::sync::Mutex::new(v)
    }
    async fn increment(m: &Self::Mutex<u64>) {
        *m.lock().await += 1;
    }
    async fn read(m: &Self::Mutex<u64>) -> u64 {
        *m.lock().await
    }
    fn semaphore(permits: usize) -> Self::Semaphore {
        tokio::sync::Semaphore::new(permits)
    }
    async fn acquire_release(s: &Self::Semaphore) {
        drop(s.acquire().await.expect("semaphore open"));
    }
}

/// async-channel and async-lock (smol's ecosystem).
pub(crate) struct SmolSync;

impl SyncLib for SmolSync {
    type Tx<T: Send + 'static> = async_channel::Sender<T>;
    type Rx<T: Send + 'static> = async_channel::Receiver<T>;
    type OneTx<T: Send + 'static> = async_channel::Sender<T>;
    type OneRx<T: Send + 'static> = async_channel::Receiver<T>;
    type Mutex<T: Send + 'static> = async_lock::Mutex<T>;
    type Semaphore = async_lock::Semaphore;

    fn channel<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        async_channel::bounded(cap)
    }
    async fn send<T: Send + 'static>(tx: &Self::Tx<T>, v: T) -> bool {
        tx.send(v).await.is_ok()
    }
    async fn recv<T: Send + 'static>(rx: &mut Self::Rx<T>) -> Option<T> {
        rx.recv().await.ok()
    }
    fn oneshot<T: Send + 'static>() -> (Self::OneTx<T>, Self::OneRx<T>) {
        async_channel::bounded(1)
    }
    fn one_send<T: Send + 'static>(tx: Self::OneTx<T>, v: T) {
        let _ = tx.try_send(v);
    }
    async fn one_recv<T: Send + 'static>(rx: Self::OneRx<T>) -> Option<T> {
        rx.recv().await.ok()
    }
    fn mutex<T: Send + 'static>(v: T) -> Self::Mutex<T> {
        async_lock::Mutex::new(v)
    }
    async fn increment(m: &Self::Mutex<u64>) {
        *m.lock().await += 1;
    }
    async fn read(m: &Self::Mutex<u64>) -> u64 {
        *m.lock().await
    }
    fn semaphore(permits: usize) -> Self::Semaphore {
        async_lock::Semaphore::new(permits)
    }
    async fn acquire_release(s: &Self::Semaphore) {
        drop(s.acquire().await);
    }
}
