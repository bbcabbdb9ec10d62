//! How the per-core accept threads of one listener share its connections
//! (server.rs `serve_routed_per_core`).
//!
//! All threads accept from the one listening socket. The kernel wakes every thread waiting on it
//! and the first to run accepts until the queue is empty, so a burst of connections (a load
//! generator opening its 50) lands mostly on one thread and the other cores idle (measured:
//! bench/BENCHMARKS.md, "Two cores"). Deferring `accept` on a busy thread balanced the threads
//! but left connections waiting in the kernel queue (p99 over a second at c500), so accepting is
//! never delayed here: a thread that accepts a connection while it serves [`HAND_OFF_MARGIN`] more
//! than the least loaded thread hands the socket to that thread over its inbox, and that thread's
//! runtime registers and serves it. A connection still lives and dies on one thread; only its
//! first moment crosses.
//!
//! The count of each thread is its live connections plus those handed to it and not yet taken;
//! a [`LiveConnection`] guard holds one unit of it, and travels with a handed socket, so a socket
//! dropped in an inbox (its thread stopped) gives its unit back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

/// How many more connections than the least loaded thread a thread serves before it hands a new
/// one over. One would hand every other connection of an even split across threads; two keeps
/// the split within one connection of even for a burst and leaves steady accepting alone.
pub(crate) const HAND_OFF_MARGIN: usize = 2;

/// An accepted socket on its way to the thread that will serve it, with the connection cap's
/// permit and the receiving thread's unit of count already taken.
pub(crate) struct Handed {
    pub(crate) tcp: std::net::TcpStream,
    pub(crate) remote: SocketAddr,
    pub(crate) permit: OwnedSemaphorePermit,
    pub(crate) live: LiveConnection,
}

/// The counts and inboxes of all threads of one listener.
struct Shared {
    live: Box<[AtomicUsize]>,
    inboxes: Box<[UnboundedSender<Handed>]>,
}

/// One thread's view: its index, everyone's counts and inboxes, and its own inbox.
pub(crate) struct ThreadShare {
    index: usize,
    shared: Arc<Shared>,
    inbox: UnboundedReceiver<Handed>,
}

/// One unit of a thread's count, given back when dropped.
pub(crate) struct LiveConnection {
    index: usize,
    shared: Arc<Shared>,
}

impl Drop for LiveConnection {
    fn drop(&mut self) {
        self.shared.live[self.index].fetch_sub(1, Ordering::Relaxed);
    }
}

/// Where a new connection goes, given each thread's count and the accepting thread `mine`: the
/// least loaded thread when `mine` serves at least [`HAND_OFF_MARGIN`] more, else `mine`.
fn place(counts: impl Iterator<Item = usize>, mine: usize, mine_count: usize) -> usize {
    let (least, least_count) = counts
        .enumerate()
        .min_by_key(|&(index, count)| (count, index != mine))
        .unwrap_or((mine, mine_count));
    if mine_count >= least_count + HAND_OFF_MARGIN {
        least
    } else {
        mine
    }
}

/// One [`ThreadShare`] per thread of a listener served by `threads` threads.
pub(crate) fn shares(threads: usize) -> Vec<ThreadShare> {
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..threads).map(|_| unbounded_channel()).unzip();
    let shared = Arc::new(Shared {
        live: (0..threads).map(|_| AtomicUsize::new(0)).collect(),
        inboxes: senders.into_boxed_slice(),
    });
    receivers
        .into_iter()
        .enumerate()
        .map(|(index, inbox)| ThreadShare {
            index,
            shared: shared.clone(),
            inbox,
        })
        .collect()
}

impl ThreadShare {
    /// Takes a unit of count for a connection this thread has just accepted: its own, or the
    /// least loaded thread's when this one is over its share. Serve the connection here when
    /// [`LiveConnection::is_on`] this thread, else [`ThreadShare::hand`] it over.
    pub(crate) fn place(&self) -> LiveConnection {
        let live = &self.shared.live;
        let mine_count = live[self.index].load(Ordering::Relaxed);
        let index = place(
            live.iter().map(|count| count.load(Ordering::Relaxed)),
            self.index,
            mine_count,
        );
        live[index].fetch_add(1, Ordering::Relaxed);
        LiveConnection {
            index,
            shared: self.shared.clone(),
        }
    }

    /// Sends `handed` to the thread its count unit belongs to; gives it back when that thread's
    /// inbox is closed (the thread has stopped), for this thread to serve or drop.
    pub(crate) fn hand(&self, handed: Handed) -> Result<(), Handed> {
        let target = handed.live.index;
        self.shared.inboxes[target]
            .send(handed)
            .map_err(|returned| returned.0)
    }

    /// Re-takes a returned socket's unit of count for this thread.
    pub(crate) fn keep(&self, mut handed: Handed) -> Handed {
        self.shared.live[self.index].fetch_add(1, Ordering::Relaxed);
        // The old unit (the stopped thread's) is given back when `handed.live` is replaced.
        handed.live = LiveConnection {
            index: self.index,
            shared: self.shared.clone(),
        };
        handed
    }

    /// The next socket another thread handed to this one. Never `None` in practice: this share
    /// holds every sender, its own included.
    pub(crate) async fn next_handed(&mut self) -> Option<Handed> {
        self.inbox.recv().await
    }
}

impl LiveConnection {
    /// Whether this unit is the count of `share`'s own thread.
    pub(crate) fn is_on(&self, share: &ThreadShare) -> bool {
        self.index == share.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(counts: &[usize], mine: usize) -> usize {
        place(counts.iter().copied(), mine, counts[mine])
    }

    #[test]
    fn a_thread_keeps_connections_until_it_serves_the_margin_more_than_the_least_loaded() {
        assert_eq!(placed(&[0, 0], 0), 0);
        assert_eq!(placed(&[1, 0], 0), 0);
        assert_eq!(placed(&[HAND_OFF_MARGIN, 0], 0), 1);
        assert_eq!(placed(&[5, 4, 4, 7], 0), 0);
        assert_eq!(placed(&[5, 4, 3, 7], 0), 2);
        assert_eq!(placed(&[5, 4, 3, 7], 3), 2);
        // Ties go to the accepting thread, then to the lowest index.
        assert_eq!(placed(&[3, 1, 1], 0), 1);
        assert_eq!(placed(&[1, 1, 1], 2), 2);
        assert_eq!(placed(&[0], 0), 0);
    }

    #[test]
    fn a_burst_accepted_by_one_thread_ends_within_one_of_even() {
        // Thread 0 wins every accept, as when the kernel wakes it first for a whole burst.
        let shares = shares(2);
        let units: Vec<LiveConnection> = (0..50).map(|_| shares[0].place()).collect();
        let on_first = units.iter().filter(|u| u.is_on(&shares[0])).count();
        assert!((25..=26).contains(&on_first), "{on_first} of 50 kept");
        drop(units);
        assert_eq!(shares[0].shared.live[0].load(Ordering::Relaxed), 0);
        assert_eq!(shares[0].shared.live[1].load(Ordering::Relaxed), 0);
    }

    /// Counts `n` connections on `share`'s own thread, as if it had accepted them.
    fn hold(share: &ThreadShare, n: usize) {
        share.shared.live[share.index].fetch_add(n, Ordering::Relaxed);
    }

    fn count(share: &ThreadShare, index: usize) -> usize {
        share.shared.live[index].load(Ordering::Relaxed)
    }

    #[tokio::test]
    async fn a_handed_socket_reaches_its_thread_or_comes_back_when_the_thread_has_stopped() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let permits = Arc::new(tokio::sync::Semaphore::new(4));
        let permit = || permits.clone().try_acquire_owned().unwrap();
        let connect = || {
            let _client = std::net::TcpStream::connect(addr).unwrap();
            listener.accept().unwrap()
        };
        let mut shares = shares(2);
        hold(&shares[0], 4);

        let (tcp, remote) = connect();
        let live = shares[0].place();
        assert!(!live.is_on(&shares[0]));
        let permit_of_first = permit();
        let handed = Handed {
            tcp,
            remote,
            permit: permit_of_first,
            live,
        };
        assert!(shares[0].hand(handed).is_ok());
        let received = shares[1].next_handed().await.expect("handed");
        assert_eq!(received.remote, remote);
        assert!(received.live.is_on(&shares[1]));
        assert_eq!((count(&shares[0], 0), count(&shares[0], 1)), (4, 1));

        // Thread 1 stops: its inbox closes and a socket handed to it comes back, counted on 0.
        let first = shares.remove(0);
        drop(shares);
        let (tcp, remote) = connect();
        let live = first.place();
        assert!(!live.is_on(&first));
        let handed = Handed {
            tcp,
            remote,
            permit: permit(),
            live,
        };
        let returned = first.hand(handed).expect_err("thread 1's inbox is closed");
        assert_eq!((count(&first, 0), count(&first, 1)), (4, 2));
        let kept = first.keep(returned);
        assert!(kept.live.is_on(&first));
        assert_eq!((count(&first, 0), count(&first, 1)), (5, 1));
        drop((kept, received));
        assert_eq!((count(&first, 0), count(&first, 1)), (4, 0));
    }
}
