//! `brisk::sync::RwLock`: shared readers, exclusive writers, no writer
//! starvation, cancel safety, downgrade, owned guards.

use brisk::sync::RwLock;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

#[test]
fn readers_share_and_writers_exclude() {
    let lock = RwLock::new(5);
    let a = lock.try_read().unwrap();
    let b = lock.try_read().unwrap();
    assert_eq!(*a + *b, 10);
    assert!(lock.try_write().is_err());
    drop((a, b));
    let mut w = lock.try_write().unwrap();
    *w += 1;
    assert!(lock.try_read().is_err());
    drop(w);
    assert_eq!(*lock.try_read().unwrap(), 6);
}

#[test]
fn a_waiting_writer_blocks_later_readers() {
    let lock = RwLock::new(0);
    let mut cx = Context::from_waker(Waker::noop());
    let r1 = lock.try_read().unwrap();
    let mut writer = Box::pin(lock.write());
    assert!(writer.as_mut().poll(&mut cx).is_pending());
    // A reader arriving after the writer must wait: no writer starvation.
    assert!(lock.try_read().is_err());
    let mut late_reader = Box::pin(lock.read());
    assert!(late_reader.as_mut().poll(&mut cx).is_pending());
    drop(r1);
    let Poll::Ready(mut w) = writer.as_mut().poll(&mut cx) else {
        panic!("writer not served after the reader left")
    };
    *w = 1;
    assert!(late_reader.as_mut().poll(&mut cx).is_pending());
    drop(w);
    let Poll::Ready(r) = late_reader.as_mut().poll(&mut cx) else {
        panic!("reader not served after the writer")
    };
    assert_eq!(*r, 1);
}

#[test]
fn a_cancelled_writer_lets_queued_readers_in() {
    let lock = RwLock::new(0);
    let mut cx = Context::from_waker(Waker::noop());
    let r1 = lock.try_read().unwrap();
    let mut writer = Box::pin(lock.write());
    assert!(writer.as_mut().poll(&mut cx).is_pending());
    let mut reader = Box::pin(lock.read());
    assert!(reader.as_mut().poll(&mut cx).is_pending());
    drop(writer);
    assert!(reader.as_mut().poll(&mut cx).is_ready());
    drop(r1);
}

#[test]
fn downgrade_admits_readers_but_not_writers() {
    let lock = RwLock::new(String::from("a"));
    let mut w = lock.try_write().unwrap();
    w.push('b');
    let r = brisk::sync::RwLockWriteGuard::downgrade(w);
    assert_eq!(*r, "ab");
    assert!(lock.try_read().is_ok());
    assert!(lock.try_write().is_err());
}

#[test]
fn writers_and_readers_across_tasks() {
    brisk::run(async {
        let lock = Arc::new(RwLock::new(Vec::new()));
        let mut tasks = Vec::new();
        for i in 0..8 {
            let lock = lock.clone();
            tasks.push(brisk::spawn(async move {
                if i % 2 == 0 {
                    lock.write_owned().await.push(i);
                } else {
                    let r = lock.clone().read_owned().await;
                    brisk::task::yield_now().await;
                    assert!(r.len() <= 4);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let mut v = lock.read().await.clone();
        v.sort();
        assert_eq!(v, vec![0, 2, 4, 6]);
        assert!(lock.holders().is_empty());
    });
}

#[test]
fn works_under_futures_block_on() {
    let lock = RwLock::new(1);
    futures::executor::block_on(async {
        *lock.write().await += 1;
        assert_eq!(*lock.read().await, 2);
    });
}

#[test]
fn polling_a_finished_write_future_panics() {
    let lock = RwLock::new(0);
    let mut cx = Context::from_waker(Waker::noop());
    let mut fut = Box::pin(lock.write());
    let Poll::Ready(guard) = fut.as_mut().poll(&mut cx) else {
        panic!("free lock not taken")
    };
    let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = fut.as_mut().poll(&mut cx);
    }));
    assert!(again.is_err());
    drop(guard);
    drop(fut);
    assert!(lock.try_write().is_ok());
}
