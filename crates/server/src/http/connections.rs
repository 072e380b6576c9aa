//! Accepting connections: every connection must send its request headers within a time limit,
//! also while it waits idle between requests, and one address may hold only so many at once.
//! Without both, idle or trickling sockets (slowloris) hold file descriptors until the server
//! can accept no one; with them a flood from one address takes only its own share.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use super::h1;

/// How long a connection may take to send a request's headers, and how long it may stay idle
/// between requests, unless the policy says otherwise. A long-poll is a request in progress and
/// is not cut by it.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections one address may hold at once, unless the policy says otherwise: enough for a
/// busy proxy or office behind one address, far below the server's file descriptors.
pub const MAX_CONNECTIONS_PER_ADDRESS: usize = 512;

/// Open connections per address; a connection's [`Slot`] gives its place back when it ends.
#[derive(Default)]
struct Occupancy {
    open: Mutex<HashMap<IpAddr, usize>>,
}

struct Slot {
    occupancy: Arc<Occupancy>,
    address: IpAddr,
}

impl Occupancy {
    fn take(self: &Arc<Self>, address: IpAddr, max: usize) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(address).or_insert(0);
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(Slot {
            occupancy: Arc::clone(self),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .occupancy
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets the requests in flight
/// finish. Each request carries its peer's address as `ConnectInfo`. Plain HTTP/1.1 requests
/// are read by [`super::h1`]; the rest go to hyper.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    policy: &crate::Policy,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let (header_timeout, max_per_address) =
        (policy.header_timeout, policy.max_connections_per_address);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(header_timeout)
        .keep_alive_timeout(header_timeout);
    let builder = Arc::new(builder);
    let occupancy = Arc::new(Occupancy::default());
    // Every connection holds a receiver; the server has stopped when the last one is gone.
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // the server goes on, after a pause that keeps it from spinning.
                    eprintln!("qrauth: accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // A trusted proxy carries many clients' connections; each client is limited by the
        // address it forwards.
        let slot = if policy.is_trusted_proxy(peer.ip()) {
            None
        } else {
            let Some(slot) = occupancy.take(peer.ip(), max_per_address) else {
                // Closed at once: the address holds its whole share already.
                drop(stream);
                continue;
            };
            Some(slot)
        };
        let _ = stream.set_nodelay(true);
        let (router, builder, stopping) = (router.clone(), Arc::clone(&builder), stopping.clone());
        tokio::spawn(async move {
            let connection = h1::Connection {
                stream,
                peer,
                header_timeout,
                stopping: stopping.clone(),
            };
            if let h1::Ending::HandOff { stream, read } = h1::serve(connection, &router).await {
                serve_with_hyper(
                    h1::Rewound::new(stream, read),
                    peer,
                    router,
                    builder,
                    stopping,
                )
                .await;
            }
            drop(slot);
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(stopping);
    stop.closed().await;
}

/// Serves the rest of a connection with hyper; at shutdown it finishes the request in flight.
/// Boxed by a plain function: the hyper connection is large, and the tasks of the connections
/// that never get here (most of them) should not carry room for it.
fn serve_with_hyper(
    io: h1::Rewound,
    peer: SocketAddr,
    router: Router,
    builder: Arc<auto::Builder<TokioExecutor>>,
    mut stopping: watch::Receiver<bool>,
) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        let service = TowerToHyperService::new(router.map_request(
            move |mut request: axum::extract::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request
            },
        ));
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
        tokio::pin!(connection);
        tokio::select! {
            _ = connection.as_mut() => return,
            _ = stopping.wait_for(|stopping| *stopping) => {}
        }
        connection.as_mut().graceful_shutdown();
        let _ = connection.await;
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_share_and_a_closed_connection_gives_its_place_back() {
        let occupancy = Arc::new(Occupancy::default());
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        let first = occupancy.take(one, 2).unwrap();
        let _second = occupancy.take(one, 2).unwrap();
        assert!(occupancy.take(one, 2).is_none());
        assert!(
            occupancy.take(other, 2).is_some(),
            "another address is not affected"
        );
        drop(first);
        assert!(occupancy.take(one, 2).is_some());
    }
}
