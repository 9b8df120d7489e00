//! Which of this crate's futures `brisk::select!` accepts by value.
//!
//! Each impl below matches a "Cancel safety" paragraph on the future's
//! method saying that dropping it loses no message, value, permit or
//! wake-up. Left out on purpose: `mpsc::Sender::send` (drops the message),
//! `mpsc::Sender::reserve_owned` (drops the sender it owns),
//! `oneshot::Receiver` by value (dropping it closes the channel; `&mut rx` is
//! accepted), `watch::Receiver::wait_for` and `Barrier::wait` (dropping them
//! has effects the caller may not expect), `OnceCell::get_or_init` (drops the
//! initializer).

use brisk_core::future::CancelSafe;

impl<T> CancelSafe for crate::mpsc::Recv<'_, T> {}
impl<T> CancelSafe for crate::mpsc::RecvMany<'_, T> {}
impl<T> CancelSafe for crate::mpsc::Closed<'_, T> {}
impl<T> CancelSafe for crate::mpsc::Reserve<'_, T> {}
impl<T: Clone> CancelSafe for crate::broadcast::Recv<'_, T> {}
impl<T> CancelSafe for crate::broadcast::Closed<'_, T> {}
impl<T> CancelSafe for crate::watch::Changed<'_, T> {}
impl<T> CancelSafe for crate::watch::Closed<'_, T> {}
impl<T> CancelSafe for crate::oneshot::Closed<'_, T> {}
impl CancelSafe for crate::Notified<'_> {}
impl CancelSafe for crate::OwnedNotified {}
impl<T: ?Sized> CancelSafe for crate::Lock<'_, T> {}
impl<T: ?Sized> CancelSafe for crate::LockOwned<T> {}
impl<T: ?Sized> CancelSafe for crate::Read<'_, T> {}
impl<T: ?Sized> CancelSafe for crate::Write<'_, T> {}
impl<T: ?Sized> CancelSafe for crate::ReadOwned<T> {}
impl<T: ?Sized> CancelSafe for crate::WriteOwned<T> {}
impl CancelSafe for crate::Acquire<'_> {}
impl CancelSafe for crate::AcquireOwned {}

#[cfg(test)]
mod tests {
    use brisk_core::future::CancelSafe;

    fn assert_cancel_safe<F: CancelSafe>(_: &F) {}

    #[test]
    fn oneshot_receiver_is_accepted_by_mut() {
        let (_tx, mut rx) = crate::oneshot::channel::<u8>();
        assert_cancel_safe(&&mut rx);
    }
}
