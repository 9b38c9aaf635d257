//! `bubble serve` and `bubble key`: load once, then hand everything to the server crate.

use crate::cli::{KeyArgs, ScopeArg, ServeArgs};
use crate::commands::{load_embedder, load_ranker};
use anyhow::{Context, Result};
use bubble_server::{AppState, Backend, Config, Parts};
use std::process::ExitCode;
use std::sync::Arc;

pub fn serve(args: ServeArgs) -> Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BUBBLE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(addr) = args.addr {
        config.addr = addr;
        config.validate()?;
    }
    let (embedder, notice) = load_embedder(&args.model)?;
    let writer_embedder = match embedder {
        Some(_) => load_embedder(&args.model)?.0.map(Arc::new),
        None => None,
    };
    let ranker = load_ranker(&args.model, embedder.as_ref())?;
    let mut notices: Vec<String> = notice.into_iter().collect();
    if config.keys.is_empty() {
        notices.push(format!(
            "no API keys configured: serving on loopback ({}) only, and every request may read and write",
            config.addr
        ));
    }
    for n in &notices {
        eprintln!("{n}");
    }
    let addr = config.addr;
    let (backend, shown) = match (&args.source.index, &args.source.store) {
        (_, Some(url)) => {
            // A connection per computing request, the writer's and a few spare.
            let store = bubble_postgres::Store::connect(url, config.limits.workers + 4)?;
            let shown = store.shown().to_string();
            (Backend::Postgres(store), shown)
        }
        (Some(dir), None) => (Backend::Index(dir.clone()), dir.display().to_string()),
        (None, None) => anyhow::bail!("give --index DIR or --store URL"),
    };
    let state = AppState::new(Parts {
        backend,
        embedder: embedder.map(|e| Arc::new(e.with_query_cache(config.query_cache))),
        writer_embedder,
        ranker,
        config,
        notices,
    })
    .with_context(|| format!("opening {shown}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("bubble-http")
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listening on {addr}"))?;
        // The first line of stdout names the bound address (port 0 picks one).
        println!("listening on http://{}", listener.local_addr()?);
        bubble_server::serve(listener, state, shutdown_signal()).await?;
        eprintln!("stopped: requests in flight answered, queued writes committed");
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

pub fn key(args: KeyArgs) -> Result<ExitCode> {
    let mut raw = [0u8; 24];
    getrandom::getrandom(&mut raw).context("drawing a random key")?;
    let secret: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let secret = format!("bk_{secret}");
    let scope = match args.scope {
        ScopeArg::Read => "read",
        ScopeArg::Write => "write",
    };
    println!("secret (shown once; give it to the client): {secret}");
    println!();
    println!("# add to bubble.toml:");
    println!("[[keys]]");
    println!("name = {:?}", args.name);
    println!("hash = {:?}", bubble_server::hash_secret(&secret));
    println!("scopes = [{scope:?}]");
    Ok(ExitCode::SUCCESS)
}
