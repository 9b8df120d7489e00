//! Attribute macros for Brisk: `#[brisk::main]` and `#[brisk::test]`.
//!
//! Both attributes turn an `async fn` into an ordinary `fn` that builds a
//! Brisk runtime and drives the function's body to completion on it with
//! `Runtime::block_on`. Use them through the facade crate (`brisk::main` and
//! `brisk::test`); this crate is an implementation detail of `brisk`.
//!
//! # `#[brisk::main]`
//!
//! The default is the multi-thread runtime with its default number of
//! worker threads:
//!
//! ```ignore
//! #[brisk::main]
//! async fn main() {
//!     println!("hello from Brisk");
//! }
//! ```
//!
//! The attribute expands to plain Rust that uses only the public runtime
//! builder, roughly:
//!
//! ```ignore
//! fn main() {
//!     let body = async move {
//!         // (a never-taken `return` that fixes the block's output type to
//!         // the function's return type goes here)
//!         println!("hello from Brisk");
//!     };
//!     let rt = ::brisk::Runtime::builder()
//!         .multi_thread()
//!         .build()
//!         .expect("`#[brisk::main]` could not build the Brisk runtime");
//!     rt.block_on(body)
//! }
//! ```
//!
//! Since it goes through the builder, the runtime honours what the builder
//! honours, such as `BRISK_CONSOLE=127.0.0.1:6669` for the live console.
//!
//! Pick the single-threaded scheduler with `flavor = "current_thread"`:
//!
//! ```ignore
//! #[brisk::main(flavor = "current_thread")]
//! async fn main() {
//!     // Everything runs on the thread that called `main`.
//! }
//! ```
//!
//! Or fix the number of worker threads of the multi-thread scheduler:
//!
//! ```ignore
//! #[brisk::main(flavor = "multi_thread", worker_threads = 2)]
//! async fn main() {
//!     // Two worker threads.
//! }
//! ```
//!
//! The function keeps its return type, so `?` and `return` work as they do
//! in any `main`:
//!
//! ```ignore
//! use std::error::Error;
//!
//! #[brisk::main]
//! async fn main() -> Result<(), Box<dyn Error>> {
//!     let n: u32 = "42".parse()?;
//!     if n == 0 {
//!         return Err("zero".into());
//!     }
//!     Ok(())
//! }
//! ```
//!
//! ```ignore
//! #[brisk::main(flavor = "current_thread")]
//! async fn main() -> std::process::ExitCode {
//!     std::process::ExitCode::SUCCESS
//! }
//! ```
//!
//! # `#[brisk::test]`
//!
//! The default for tests is the current-thread runtime, one per test:
//!
//! ```ignore
//! #[brisk::test]
//! async fn adds() {
//!     assert_eq!(async { 1 + 1 }.await, 2);
//! }
//! ```
//!
//! Tests take the same arguments as `#[brisk::main]`:
//!
//! ```ignore
//! #[brisk::test(flavor = "multi_thread", worker_threads = 4)]
//! async fn runs_on_many_threads() {}
//! ```
//!
//! Other test attributes (`#[should_panic]`, `#[ignore]`, ...) go below
//! `#[brisk::test]`, and a test may return a `Result`:
//!
//! ```ignore
//! #[brisk::test]
//! #[ignore = "slow"]
//! async fn parses() -> Result<(), std::num::ParseIntError> {
//!     let _n: u8 = "7".parse()?;
//!     Ok(())
//! }
//! ```
//!
//! A test whose tasks and body all wait with nothing left that could wake
//! them (no timer, no socket, no blocking job, nothing polled) for 5 s fails
//! with a dump of every task and what it waits on, instead of hanging. A
//! thread outside the runtime that wakes the test later than that is
//! invisible to this check; build the runtime by hand with a longer
//! `deadlock_grace` for such a test.
//!
//! `#[brisk::test]` adds `#[test]` itself; do not write `#[test]` as well.
//! (A `#[test]` below it is reported by this macro; one above it runs first
//! and is rejected by the compiler with "async functions cannot be used for
//! tests".)
//!
//! # Arguments
//!
//! | argument | values | default |
//! | --- | --- | --- |
//! | `flavor` | `"multi_thread"` or `"current_thread"` | `"multi_thread"` for `main`, `"current_thread"` for `test` |
//! | `worker_threads` | an integer of at least 1, only with `"multi_thread"` | the runtime's default |
//! | `crate` | a path to the `brisk` crate, as a string | `"::brisk"` |
//! | `sim` | no value; tests only | off |
//! | `seeds` | an integer of at least 1, only with `sim` or a `backends` list with `sim` | `1` |
//! | `backends` | `all`, or a list of `current_thread`, `multi_thread`, `sim`, `tokio`; tests only | off |
//!
//! # One test, every backend
//!
//! `#[brisk::test(backends = all)]` turns the function into a module of the
//! same name holding one `#[test]` per backend — `current_thread`,
//! `multi_thread` (two workers), `sim` (the simulator, `seeds = N` seeds)
//! and `tokio` (Brisk on a current-thread tokio runtime through
//! `brisk::compat::tokio`, which needs the facade's `tokio-compat`
//! feature) — so `cargo test my_test` runs it everywhere and
//! `cargo test my_test::sim` on one. `backends = [current_thread, sim]`
//! picks some. The body must be portable Brisk code: it is compiled once
//! per backend.
//!
//! ```ignore
//! #[brisk::test(backends = all)]
//! async fn spawn_join() {
//!     assert_eq!(brisk::spawn(async { 2 }).await.unwrap(), 2);
//! }
//! ```
//!
//! # Simulated tests
//!
//! `#[brisk::test(sim)]` runs the body as the client of a fresh
//! `brisk::sim::Sim` (one thread, seeded scheduler, virtual time);
//! `seeds = N` runs it for seeds `0..N`. A failing seed prints the failure
//! and panics with one line that replays it, for example
//! `BRISK_SEED=0x2a cargo test my_test`; with `BRISK_SEED` set only that
//! seed runs. A seed that never finishes — a livelock, or a client waiting
//! while a background task ticks forever — fails after twenty million task
//! polls with what every task waits on, instead of hanging the test run;
//! `BRISK_SIM_STEP_LIMIT=<polls>` raises the limit (`0`: none).
//!
//! ```ignore
//! #[brisk::test(sim, seeds = 200)]
//! async fn survives_reordering() {
//!     let a = brisk::spawn(async { 1 });
//!     let b = brisk::spawn(async { 2 });
//!     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
//! }
//! ```
//!
//! `crate` is for code that reaches Brisk under another name, for example a
//! renamed dependency or the facade's own tests:
//!
//! ```ignore
//! #[brisk::main(crate = "my_brisk")]
//! async fn main() {}
//! ```
//!
//! # Requirements on the function
//!
//! The function must be an `async fn` without parameters and without
//! generics, and may not be `unsafe`, `const` or `extern`. Mistakes are
//! reported at compile time with a message that names the fix.

use proc_macro::TokenStream;
use proc_macro2::{Literal, Span, TokenStream as TokenStream2, TokenTree};
use quote::{quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Ident, ItemFn, Lifetime, Lit, ReturnType, Token};

/// Runs an `async fn main` on a Brisk runtime.
///
/// Accepts `flavor = "multi_thread"` (the default) or
/// `flavor = "current_thread"`, `worker_threads = N` (multi-thread only) and
/// `crate = "path::to::brisk"`. See the [crate docs](crate) for examples.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` test on a fresh Brisk runtime.
///
/// Accepts `flavor = "current_thread"` (the default) or
/// `flavor = "multi_thread"`, `worker_threads = N` (multi-thread only) and
/// `crate = "path::to::brisk"`; `sim` and `seeds = N` for a simulated test;
/// `backends = all` (or a list) for one test per backend. Adds `#[test]` to
/// the function, so do not write `#[test]` as well. See the
/// [crate docs](crate) for examples.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Test, args.into(), item.into()).into()
}

/// Puts an `async fn` in the await chains that task dumps show.
///
/// While the function's future is polled, any wait a Brisk leaf future
/// records inside it carries the function's name and location, outermost
/// first, so `brisk::diag::dump()` shows the path a task took to its wait.
/// Accepts `name = "..."` (the default is `module::function`) and
/// `crate = "path::to::brisk"`. Applies to `async fn`s, free or methods.
#[proc_macro_attribute]
pub fn traced(args: TokenStream, item: TokenStream) -> TokenStream {
    traced::expand(args.into(), item.into()).into()
}

mod traced;

/// Which attribute is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    /// The attribute as the user writes it, for error messages.
    fn attr(self) -> &'static str {
        match self {
            Kind::Main => "`#[brisk::main]`",
            Kind::Test => "`#[brisk::test]`",
        }
    }

    fn default_flavor(self) -> Flavor {
        match self {
            Kind::Main => Flavor::MultiThread,
            Kind::Test => Flavor::CurrentThread,
        }
    }
}

/// The scheduler the generated code asks the builder for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
    /// `#[brisk::test(sim)]`: the body runs as a simulation client per seed.
    Sim,
}

impl Flavor {
    fn name(self) -> &'static str {
        match self {
            Flavor::CurrentThread => "current_thread",
            Flavor::MultiThread => "multi_thread",
            Flavor::Sim => "sim",
        }
    }
}

/// The validated arguments of the attribute.
#[derive(Clone)]
struct Config {
    flavor: Flavor,
    /// The requested worker count and the span of its literal.
    worker_threads: Option<(usize, Span)>,
    /// `seeds = N` of a simulated test.
    seeds: Option<(u64, Span)>,
    /// Path to the facade crate, `::brisk` unless `crate = "..."` is given.
    krate: syn::Path,
    /// `backends = ...`: one test per backend.
    backends: Option<Vec<Backend>>,
}

impl Config {
    fn defaults(kind: Kind) -> Config {
        Config {
            flavor: kind.default_flavor(),
            worker_threads: None,
            seeds: None,
            krate: syn::parse_quote!(::brisk),
            backends: None,
        }
    }
}

/// One `key` or `key = value` item of the argument list, before validation.
struct RawArg {
    key: Ident,
    value: Option<Expr>,
}

/// How long a `#[brisk::test]` may stay deadlocked before it fails.
const DEADLOCK_GRACE_SECS: u64 = 5;

const ARG_NAMES: [&str; 6] = [
    "flavor",
    "worker_threads",
    "crate",
    "sim",
    "seeds",
    "backends",
];

/// A backend of `#[brisk::test(backends = ...)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backend {
    CurrentThread,
    MultiThread,
    Sim,
    Tokio,
}

impl Backend {
    const ALL: [Backend; 4] = [
        Backend::CurrentThread,
        Backend::MultiThread,
        Backend::Sim,
        Backend::Tokio,
    ];

    fn name(self) -> &'static str {
        match self {
            Backend::CurrentThread => "current_thread",
            Backend::MultiThread => "multi_thread",
            Backend::Sim => "sim",
            Backend::Tokio => "tokio",
        }
    }
}

/// Expands either attribute. Never fails: errors become `compile_error!`s.
fn expand(kind: Kind, args: TokenStream2, item: TokenStream2) -> TokenStream2 {
    let config = parse_args(kind, args);
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(err) => {
            let msg = format!(
                "{} can only be applied to an `async fn`: {}",
                kind.attr(),
                err
            );
            let err = syn::Error::new(err.span(), msg);
            // Re-emit the input so the rest of the crate still resolves it.
            return with_error(err, item);
        }
    };
    match (config, check_fn(kind, &func)) {
        (Ok(config), Ok(())) => generate(kind, &config, func),
        // Bad arguments on a good function: expand with the defaults so
        // that only the argument error is reported, not a cascade of
        // "`main` may not be async" errors.
        (Err(err), Ok(())) => {
            let mut out = err.to_compile_error();
            out.extend(generate(kind, &Config::defaults(kind), func));
            out
        }
        (Ok(_), Err(err)) => with_error(err, item),
        (Err(mut err), Err(more)) => {
            err.combine(more);
            with_error(err, item)
        }
    }
}

fn with_error(err: syn::Error, item: TokenStream2) -> TokenStream2 {
    let mut out = err.to_compile_error();
    out.extend(item);
    out
}

/// Parses and validates the attribute's arguments.
///
/// All problems are reported together, combined into one `syn::Error`.
fn parse_args(kind: Kind, args: TokenStream2) -> syn::Result<Config> {
    let raw = parse_raw_args(kind, args)?;
    let mut config = Config::defaults(kind);
    let mut errors: Option<syn::Error> = None;
    let mut push = |err: syn::Error| match &mut errors {
        Some(all) => all.combine(err),
        None => errors = Some(err),
    };
    let mut flavor_key: Option<Ident> = None;
    let mut threads_key: Option<Ident> = None;
    let mut crate_key: Option<Ident> = None;
    let mut sim_key: Option<Ident> = None;
    let mut seeds_key: Option<Ident> = None;
    let mut backends_key: Option<Ident> = None;

    for arg in raw {
        let key_name = arg.key.unraw().to_string();
        if key_name == "sim" {
            if kind == Kind::Main {
                push(syn::Error::new(
                    arg.key.span(),
                    "`#[brisk::main]` cannot run in the simulator: a simulation is for tests; \
                     use `#[brisk::test(sim)]` on a test, or build a `brisk::sim::Sim` by hand",
                ));
                continue;
            }
            if arg.value.is_some() {
                push(syn::Error::new(
                    arg.key.span(),
                    format!(
                        "{} takes `sim` without a value: write `sim` or `sim, seeds = 200`",
                        kind.attr()
                    ),
                ));
                continue;
            }
            if sim_key.replace(arg.key.clone()).is_some() {
                push(syn::Error::new(
                    arg.key.span(),
                    format!("{} got `sim` twice: keep only one", kind.attr()),
                ));
            }
            continue;
        }
        let seen = match key_name.as_str() {
            "flavor" => &mut flavor_key,
            "worker_threads" => &mut threads_key,
            "crate" => &mut crate_key,
            "seeds" => &mut seeds_key,
            "backends" => &mut backends_key,
            _ => {
                push(unknown_arg(kind, &arg));
                continue;
            }
        };
        if seen.is_some() {
            push(syn::Error::new(
                arg.key.span(),
                format!(
                    "{} got `{key_name}` twice: keep only one `{key_name} = ...`",
                    kind.attr()
                ),
            ));
            continue;
        }
        *seen = Some(arg.key.clone());
        let Some(value) = arg.value else {
            push(syn::Error::new(
                arg.key.span(),
                format!(
                    "{} needs a value for `{key_name}`: write `{}`",
                    kind.attr(),
                    arg_example(&key_name)
                ),
            ));
            continue;
        };
        let result = match key_name.as_str() {
            "flavor" => parse_flavor(kind, &value).map(|f| config.flavor = f),
            "worker_threads" => {
                parse_worker_threads(kind, &value).map(|n| config.worker_threads = Some(n))
            }
            "seeds" => parse_seeds(kind, &value).map(|n| config.seeds = Some(n)),
            "backends" => parse_backends(kind, &value).map(|b| config.backends = Some(b)),
            _ => parse_crate(kind, &value).map(|p| config.krate = p),
        };
        if let Err(err) = result {
            push(err);
        }
    }

    if let Some(backends) = &backends_key {
        if let Some(key) = flavor_key
            .as_ref()
            .or(threads_key.as_ref())
            .or(sim_key.as_ref())
        {
            push(syn::Error::new(
                key.span(),
                format!(
                    "{}: `{key}` does not apply with `backends`: each backend is set up \
                     by the test harness; remove `{key}`, or remove `backends`",
                    kind.attr()
                ),
            ));
        }
        let has_sim = config
            .backends
            .as_ref()
            .is_some_and(|b| b.contains(&Backend::Sim));
        if let (Some(key), false) = (&seeds_key, has_sim) {
            push(syn::Error::new(
                key.span(),
                format!(
                    "{}: `seeds` only applies to the `sim` backend, which `{backends}` \
                     does not list: add `sim` or remove `seeds`",
                    kind.attr()
                ),
            ));
        }
    } else if let Some(sim) = &sim_key {
        if let Some(key) = flavor_key.as_ref().or(threads_key.as_ref()) {
            push(syn::Error::new(
                key.span(),
                format!(
                    "{}: `{}` does not apply to `sim`: a simulation runs every node on one \
                     thread; remove it, or remove `sim` to run on a real runtime",
                    kind.attr(),
                    key
                ),
            ));
        }
        let _ = sim;
        config.flavor = Flavor::Sim;
    } else if let Some(key) = &seeds_key {
        push(syn::Error::new(
            key.span(),
            format!(
                "{}: `seeds` only applies to simulated tests: add `sim` (`#[brisk::test(sim, seeds = N)]`) \
                 or remove `seeds`",
                kind.attr()
            ),
        ));
    }

    if let (Some(key), Flavor::CurrentThread) = (&threads_key, config.flavor) {
        let why = if flavor_key.is_some() {
            "this function asks for `flavor = \"current_thread\"`".to_string()
        } else {
            format!(
                "{} uses the `current_thread` flavor unless told otherwise",
                kind.attr()
            )
        };
        push(syn::Error::new(
            key.span(),
            format!(
                "{}: `worker_threads` only applies to the multi-thread runtime, but {why}: \
                 add `flavor = \"multi_thread\"` or remove `worker_threads`",
                kind.attr()
            ),
        ));
    }

    match errors {
        Some(err) => Err(err),
        None => Ok(config),
    }
}

/// Splits `a = 1, b, c = "x"` into keys and optional values.
fn parse_raw_args(kind: Kind, args: TokenStream2) -> syn::Result<Vec<RawArg>> {
    let parser = |input: ParseStream| {
        let mut out = Vec::new();
        while !input.is_empty() {
            let key = input.call(Ident::parse_any).map_err(|err| {
                syn::Error::new(
                    err.span(),
                    format!(
                        "{} expects arguments like `flavor = \"current_thread\"`, \
                         separated by commas",
                        kind.attr()
                    ),
                )
            })?;
            let value = if input.peek(Token![=]) {
                input.parse::<Token![=]>()?;
                Some(input.parse::<Expr>()?)
            } else {
                None
            };
            out.push(RawArg { key, value });
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>().map_err(|err| {
                syn::Error::new(
                    err.span(),
                    format!("{} expects a `,` between arguments", kind.attr()),
                )
            })?;
        }
        Ok(out)
    };
    parser.parse2(args)
}

fn arg_example(key: &str) -> &'static str {
    match key {
        "flavor" => "flavor = \"multi_thread\"` or `flavor = \"current_thread\"",
        "worker_threads" => "worker_threads = 4",
        "seeds" => "seeds = 200",
        _ => "crate = \"path::to::brisk\"",
    }
}

fn unknown_arg(kind: Kind, arg: &RawArg) -> syn::Error {
    let name = arg.key.unraw().to_string();
    let accepted =
        "the accepted arguments are `flavor`, `worker_threads`, `crate`, and for tests `sim` and `seeds`";
    let msg = if arg.value.is_none() && (name == "current_thread" || name == "multi_thread") {
        format!(
            "{} does not accept a bare `{name}`: write `flavor = \"{name}\"`",
            kind.attr()
        )
    } else if let Some(close) = closest_arg(&name) {
        format!(
            "{} does not accept `{name}`: did you mean `{close}`? ({accepted})",
            kind.attr()
        )
    } else {
        format!("{} does not accept `{name}`: {accepted}", kind.attr())
    };
    syn::Error::new(arg.key.span(), msg)
}

/// The accepted argument name closest to `name`, if it is a plausible typo.
fn closest_arg(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    ARG_NAMES
        .iter()
        .map(|&candidate| (edit_distance(&name, candidate), candidate))
        .filter(|&(distance, candidate)| distance <= candidate.len() / 3)
        .min()
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, &cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != cb);
            cur.push(substitute.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

fn parse_flavor(kind: Kind, value: &Expr) -> syn::Result<Flavor> {
    let fix = "write `flavor = \"multi_thread\"` or `flavor = \"current_thread\"`";
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => match s.value().as_str() {
            "current_thread" => Ok(Flavor::CurrentThread),
            "multi_thread" => Ok(Flavor::MultiThread),
            other => {
                let hint = match other {
                    "current-thread" | "currentthread" | "single_thread" | "single-thread"
                    | "local" => " (did you mean \"current_thread\"?)",
                    "multi-thread" | "multithread" | "multi_threaded" | "threaded" => {
                        " (did you mean \"multi_thread\"?)"
                    }
                    _ => "",
                };
                Err(syn::Error::new(
                    s.span(),
                    format!(
                        "{} has no runtime flavor \"{other}\"{hint}: {fix}",
                        kind.attr()
                    ),
                ))
            }
        },
        _ => Err(syn::Error::new_spanned(
            value,
            format!("{} takes `flavor` as a string: {fix}", kind.attr()),
        )),
    }
}

fn parse_worker_threads(kind: Kind, value: &Expr) -> syn::Result<(usize, Span)> {
    let Expr::Lit(ExprLit {
        lit: Lit::Int(int), ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(
            value,
            format!(
                "{} takes `worker_threads` as an integer literal: write e.g. `worker_threads = 4`",
                kind.attr()
            ),
        ));
    };
    let n: usize = int.base10_parse().map_err(|_| {
        syn::Error::new(
            int.span(),
            format!(
                "{} takes `worker_threads` as a `usize`: write e.g. `worker_threads = 4`",
                kind.attr()
            ),
        )
    })?;
    if n == 0 {
        return Err(syn::Error::new(
            int.span(),
            format!(
                "{}: `worker_threads = 0` leaves the runtime with no threads to run tasks: \
                 use at least 1, or leave `worker_threads` out to get the default",
                kind.attr()
            ),
        ));
    }
    Ok((n, int.span()))
}

fn parse_backends(kind: Kind, value: &Expr) -> syn::Result<Vec<Backend>> {
    let fix = "write `backends = all` or e.g. `backends = [current_thread, sim, tokio]`";
    if kind == Kind::Main {
        return Err(syn::Error::new_spanned(
            value,
            "`#[brisk::main]` runs on one runtime: `backends` is for tests \
             (`#[brisk::test(backends = all)]`)",
        ));
    }
    let one = |e: &Expr| -> syn::Result<Backend> {
        let name = match e {
            Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        };
        Backend::ALL
            .into_iter()
            .find(|b| name.as_deref() == Some(b.name()))
            .ok_or_else(|| {
                syn::Error::new_spanned(
                    e,
                    format!(
                        "{}: unknown backend; the backends are `current_thread`, \
                         `multi_thread`, `sim` and `tokio`: {fix}",
                        kind.attr()
                    ),
                )
            })
    };
    let list = match value {
        Expr::Path(p) if p.path.is_ident("all") => Backend::ALL.to_vec(),
        Expr::Array(arr) => arr.elems.iter().map(one).collect::<syn::Result<Vec<_>>>()?,
        other => vec![one(other)?],
    };
    if list.is_empty() {
        return Err(syn::Error::new_spanned(
            value,
            format!("{}: `backends = []` would run nothing: {fix}", kind.attr()),
        ));
    }
    let mut seen = Vec::new();
    for b in list {
        if seen.contains(&b) {
            return Err(syn::Error::new_spanned(
                value,
                format!("{}: backend `{}` is listed twice", kind.attr(), b.name()),
            ));
        }
        seen.push(b);
    }
    Ok(seen)
}

fn parse_seeds(kind: Kind, value: &Expr) -> syn::Result<(u64, Span)> {
    let fix = "write e.g. `seeds = 200`";
    let Expr::Lit(ExprLit {
        lit: Lit::Int(int), ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(
            value,
            format!("{} takes `seeds` as an integer literal: {fix}", kind.attr()),
        ));
    };
    let n: u64 = int.base10_parse().map_err(|_| {
        syn::Error::new(
            int.span(),
            format!("{} takes `seeds` as a `u64`: {fix}", kind.attr()),
        )
    })?;
    if n == 0 {
        return Err(syn::Error::new(
            int.span(),
            format!(
                "{}: `seeds = 0` would run the test zero times: use at least 1",
                kind.attr()
            ),
        ));
    }
    Ok((n, int.span()))
}

fn parse_crate(kind: Kind, value: &Expr) -> syn::Result<syn::Path> {
    let fix = "write e.g. `crate = \"my_brisk\"` or `crate = \"::some::path::brisk\"`";
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => s.parse_with(syn::Path::parse_mod_style).map_err(|_| {
            syn::Error::new(
                s.span(),
                format!(
                    "{}: \"{}\" is not a path to a crate: {fix}",
                    kind.attr(),
                    s.value()
                ),
            )
        }),
        _ => Err(syn::Error::new_spanned(
            value,
            format!("{} takes `crate` as a string: {fix}", kind.attr()),
        )),
    }
}

/// Checks the function's signature and attributes.
fn check_fn(kind: Kind, func: &ItemFn) -> syn::Result<()> {
    let sig = &func.sig;
    let name = &sig.ident;
    let mut errors: Vec<syn::Error> = Vec::new();

    if sig.asyncness.is_none() {
        let fix = match kind {
            Kind::Main => format!("write `async fn {name}()`"),
            Kind::Test => {
                format!("write `async fn {name}()`, or use plain `#[test]` for a synchronous test")
            }
        };
        errors.push(syn::Error::new(
            sig.fn_token.span,
            format!("{} needs an `async fn`: {fix}", kind.attr()),
        ));
    }
    if !sig.inputs.is_empty() || sig.variadic.is_some() {
        let why = match kind {
            Kind::Main => format!(
                "the runtime calls `{name}` with no arguments: remove the parameters \
                 (read command-line arguments with `std::env::args()`)"
            ),
            Kind::Test => format!(
                "the test harness calls `{name}` with no arguments: remove the parameters \
                 and build the values inside the test"
            ),
        };
        errors.push(syn::Error::new_spanned(
            &sig.inputs,
            format!("{} functions cannot take parameters: {why}", kind.attr()),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        let spanned: &dyn ToTokens = if sig.generics.params.is_empty() {
            &sig.generics.where_clause
        } else {
            &sig.generics
        };
        errors.push(syn::Error::new_spanned(
            spanned,
            format!(
                "{} functions cannot be generic: nothing could choose the type parameters \
                 when `{name}` is called; remove the generic parameters and the `where` clause",
                kind.attr()
            ),
        ));
    }
    if let Some(token) = &sig.unsafety {
        errors.push(syn::Error::new(
            token.span,
            format!(
                "{} functions cannot be `unsafe`: remove `unsafe` and use an `unsafe {{ }}` \
                 block inside",
                kind.attr()
            ),
        ));
    }
    if let Some(token) = &sig.constness {
        errors.push(syn::Error::new(
            token.span,
            format!(
                "{} functions cannot be `const`: remove `const`",
                kind.attr()
            ),
        ));
    }
    if let Some(abi) = &sig.abi {
        errors.push(syn::Error::new_spanned(
            abi,
            format!(
                "{} functions cannot have an `extern` ABI: remove `{}`",
                kind.attr(),
                abi.to_token_stream()
            ),
        ));
    }
    if kind == Kind::Test {
        for attr in &func.attrs {
            if let Some(written) = test_attribute(attr) {
                let msg = if written.ends_with("brisk::test]") {
                    format!("{} is applied twice: remove this `{written}`", kind.attr())
                } else if written == "#[test]" {
                    format!(
                        "{} already adds `#[test]`: remove this `#[test]` (with both, the test \
                         harness would see an `async fn` it cannot run)",
                        kind.attr()
                    )
                } else {
                    format!(
                        "{} cannot be combined with `{written}`: both turn the function into a \
                         test; keep only one of them",
                        kind.attr()
                    )
                };
                errors.push(syn::Error::new_spanned(attr, msg));
            }
        }
    }

    let mut errors = errors.into_iter();
    match errors.next() {
        None => Ok(()),
        Some(mut first) => {
            for err in errors {
                first.combine(err);
            }
            Err(first)
        }
    }
}

/// If `attr` is a test attribute (`#[test]`, `#[core::prelude::v1::test]`,
/// `#[brisk::test]`, `#[tokio::test]`, ...), how it was written.
fn test_attribute(attr: &Attribute) -> Option<String> {
    if !matches!(attr.style, syn::AttrStyle::Outer) {
        return None;
    }
    let path = attr.path();
    let last = path.segments.last()?;
    if last.ident != "test" {
        return None;
    }
    let written: Vec<String> = path
        .segments
        .iter()
        .map(|seg| seg.ident.to_string())
        .collect();
    let lead = if path.leading_colon.is_some() {
        "::"
    } else {
        ""
    };
    Some(format!("#[{lead}{}]", written.join("::")))
}

/// Whether the type mentions `impl Trait` anywhere; such a type cannot be
/// written as a closure's return type.
fn mentions_impl_trait(tokens: TokenStream2) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(ident) => ident == "impl",
        TokenTree::Group(group) => mentions_impl_trait(group.stream()),
        _ => false,
    })
}

/// Produces the synchronous function.
fn generate(kind: Kind, config: &Config, func: ItemFn) -> TokenStream2 {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = func;
    sig.asyncness = None;

    let (inner_attrs, outer_attrs): (Vec<Attribute>, Vec<Attribute>) = attrs
        .into_iter()
        .partition(|attr| matches!(attr.style, syn::AttrStyle::Inner(_)));
    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => TokenStream2::new(),
    };

    // Mixed-site hygiene keeps these locals out of the user's sight; the
    // unusual names keep a user's `const body` from turning the `let` into a
    // constant pattern (items are looked up at the call site).
    let body_var = Ident::new("__brisk_body", Span::mixed_site());
    let rt_var = Ident::new("__brisk_rt", Span::mixed_site());
    // A label starting with `'_` is exempt from `unused_labels`, and a
    // labelled block is exempt from `unused_braces` (which would otherwise
    // flag a one-line body such as `{ run().await }`).
    let label = Lifetime::new("'__brisk_body", Span::mixed_site());

    // The body goes in an `async move` block. An async block has no return
    // type annotation: its output type is taken from the first `return` or
    // from the tail, so an early `return Err(Box::new(e))` would fix the
    // output to `Result<_, Box<E>>` instead of coercing to the declared
    // `Result<_, Box<dyn Error>>`. The never-taken `return` of a value of the
    // declared type, placed before the user's code, fixes the output type
    // first; after that every `return`, `?` and the tail are checked against
    // it exactly as in an `async fn`, and type errors point at the user's
    // code. The user's block stays a nested block so that items declared in
    // it cannot change what the return type's names refer to. `impl Trait`
    // and `!` cannot be named there, so those keep plain inference.
    //
    // The guard keeps the macro's hygiene (so lints treat it as macro code)
    // but is located at the return type, so "return type inferred to be ...
    // here" notes point at the signature rather than at the attribute.
    let output_ty = match &sig.output {
        ReturnType::Default => Some((quote!(()), Span::call_site())),
        ReturnType::Type(_, ty)
            if !matches!(**ty, syn::Type::Never(_))
                && !mentions_impl_trait(ty.to_token_stream()) =>
        {
            Some((
                ty.to_token_stream(),
                Span::call_site().located_at(ty.span()),
            ))
        }
        ReturnType::Type(..) => None,
    };
    let pin_output = output_ty.map(|(ty, span)| {
        let never_var = Ident::new("__brisk_never", Span::mixed_site().located_at(span));
        quote_spanned! {span=>
            if let ::core::option::Option::Some(#never_var) = ::core::option::Option::<#ty>::None {
                return #never_var;
            }
        }
    });
    let body = quote! {
        async move {
            #pin_output
            #label: #block
        }
    };

    let krate = &config.krate;
    if let Some(backends) = &config.backends {
        let name = &sig.ident;
        let seeds = Literal::u64_suffixed(config.seeds.map_or(1, |(n, _)| n));
        let tests = backends.iter().map(|b| {
            let test = Ident::new(b.name(), Span::call_site());
            let run = match b {
                Backend::Sim => quote! {
                    #krate::__private::backends::sim(
                        ::core::concat!(::core::module_path!(), "::sim"),
                        #seeds,
                        || #body,
                    )
                },
                _ => quote!(#krate::__private::backends::#test(|| #body)),
            };
            quote! {
                #test_attr
                #(#outer_attrs)*
                pub(super) fn #test() {
                    #(#inner_attrs)*
                    #run
                }
            }
        });
        return quote! {
            #[allow(non_snake_case)]
            #vis mod #name {
                #[allow(unused_imports)]
                use super::*;
                #(#tests)*
            }
        };
    }
    if config.flavor == Flavor::Sim {
        let name = &sig.ident;
        sig.output = ReturnType::Default;
        let seeds = config.seeds.map_or(1, |(n, _)| n);
        let seeds = Literal::u64_suffixed(seeds);
        return quote! {
            #test_attr
            #(#outer_attrs)*
            #vis #sig {
                #(#inner_attrs)*
                #krate::sim::__private::run_test(
                    ::core::concat!(::core::module_path!(), "::", ::core::stringify!(#name)),
                    #seeds,
                    || #body,
                )
            }
        };
    }
    let flavor = Ident::new(config.flavor.name(), Span::call_site());
    let threads = config.worker_threads.map(|(n, span)| {
        let mut lit = Literal::usize_unsuffixed(n);
        lit.set_span(span);
        quote_spanned!(span=> .worker_threads(#lit))
    });
    let expect = format!("{} could not build the Brisk runtime", kind.attr());
    // A deadlocked test fails with the dump instead of hanging.
    let deadlock = (kind == Kind::Test).then(|| {
        quote! {
            .deadlock_grace(::core::option::Option::Some(::core::time::Duration::from_secs(
                #DEADLOCK_GRACE_SECS,
            )))
            .panic_on_deadlock(true)
        }
    });

    quote! {
        #test_attr
        #(#outer_attrs)*
        #vis #sig {
            #(#inner_attrs)*
            let #body_var = #body;
            #[allow(clippy::expect_used)]
            let #rt_var = #krate::Runtime::builder()
                .#flavor()
                #threads
                #deadlock
                .build()
                .expect(#expect);
            #rt_var.block_on(#body_var)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{
        check_fn, closest_arg, edit_distance, expand, parse_args, Flavor, ItemFn, Kind, ToTokens,
        TokenStream2,
    };
    use quote::quote;

    fn args_err(kind: Kind, args: TokenStream2) -> String {
        match parse_args(kind, args) {
            Ok(config) => panic!("expected an error, got {:?}", config.flavor),
            Err(err) => err
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    fn fn_err(kind: Kind, item: TokenStream2) -> String {
        let func: ItemFn = syn::parse2(item).expect("test input is a fn");
        match check_fn(kind, &func) {
            Ok(()) => panic!("expected an error"),
            Err(err) => err
                .into_iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        }
    }

    /// Normalises token spacing so expansions can be compared as text.
    fn text(tokens: TokenStream2) -> String {
        tokens
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn defaults_per_kind() {
        let main = parse_args(Kind::Main, quote!()).unwrap();
        assert_eq!(main.flavor, Flavor::MultiThread);
        assert!(main.worker_threads.is_none());
        assert_eq!(text(main.krate.to_token_stream()), ":: brisk");

        let test = parse_args(Kind::Test, quote!()).unwrap();
        assert_eq!(test.flavor, Flavor::CurrentThread);
        assert!(test.worker_threads.is_none());
    }

    #[test]
    fn flavors_and_threads() {
        let c = parse_args(Kind::Main, quote!(flavor = "current_thread")).unwrap();
        assert_eq!(c.flavor, Flavor::CurrentThread);

        let c = parse_args(
            Kind::Main,
            quote!(flavor = "multi_thread", worker_threads = 2),
        )
        .unwrap();
        assert_eq!(c.flavor, Flavor::MultiThread);
        assert_eq!(c.worker_threads.map(|(n, _)| n), Some(2));

        let c = parse_args(
            Kind::Test,
            quote!(worker_threads = 3, flavor = "multi_thread",),
        )
        .unwrap();
        assert_eq!(c.flavor, Flavor::MultiThread);
        assert_eq!(c.worker_threads.map(|(n, _)| n), Some(3));

        let c = parse_args(Kind::Main, quote!(worker_threads = 8)).unwrap();
        assert_eq!(c.flavor, Flavor::MultiThread);
        assert_eq!(c.worker_threads.map(|(n, _)| n), Some(8));
    }

    #[test]
    fn crate_path() {
        let c = parse_args(Kind::Main, quote!(crate = "crate")).unwrap();
        assert_eq!(text(c.krate.to_token_stream()), "crate");
        let c = parse_args(Kind::Test, quote!(crate = "::a::b")).unwrap();
        assert_eq!(text(c.krate.to_token_stream()), ":: a :: b");

        let err = args_err(Kind::Main, quote!(crate = "a b"));
        assert!(err.contains("is not a path to a crate"), "{err}");
        let err = args_err(Kind::Main, quote!(crate = brisk));
        assert!(err.contains("takes `crate` as a string"), "{err}");
    }

    #[test]
    fn sim_args() {
        let c = parse_args(Kind::Test, quote!(sim)).unwrap();
        assert_eq!(c.flavor, Flavor::Sim);
        assert!(c.seeds.is_none());
        let c = parse_args(Kind::Test, quote!(sim, seeds = 200)).unwrap();
        assert_eq!(c.seeds.map(|s| s.0), Some(200));

        let err = args_err(Kind::Test, quote!(seeds = 5));
        assert!(
            err.contains("`seeds` only applies to simulated tests"),
            "{err}"
        );
        let err = args_err(Kind::Main, quote!(sim));
        assert!(
            err.contains("`#[brisk::main]` cannot run in the simulator"),
            "{err}"
        );
        let err = args_err(Kind::Test, quote!(sim, flavor = "multi_thread"));
        assert!(err.contains("`flavor` does not apply to `sim`"), "{err}");
        let err = args_err(Kind::Test, quote!(sim, seeds = 0));
        assert!(err.contains("`seeds = 0`"), "{err}");
        let err = args_err(Kind::Test, quote!(sim = 3));
        assert!(err.contains("takes `sim` without a value"), "{err}");

        let func: ItemFn = syn::parse2(quote!(
            async fn t() -> Result<(), E> {
                Ok(())
            }
        ))
        .unwrap();
        let config = parse_args(Kind::Test, quote!(sim, seeds = 3)).unwrap();
        let out = text(super::generate(Kind::Test, &config, func));
        assert!(
            out.contains("fn t ()  {") || out.contains("fn t () {"),
            "{out}"
        );
        assert!(
            out.contains(":: brisk :: sim :: __private :: run_test"),
            "{out}"
        );
        assert!(out.contains("3u64"), "{out}");
    }

    #[test]
    fn unknown_and_misspelled_args() {
        let err = args_err(Kind::Main, quote!(foo = 1));
        assert!(
            err.contains("`#[brisk::main]` does not accept `foo`"),
            "{err}"
        );
        assert!(
            err.contains("`flavor`, `worker_threads`, `crate`, and for tests `sim` and `seeds`"),
            "{err}"
        );

        let err = args_err(Kind::Main, quote!(flavour = "current_thread"));
        assert!(err.contains("did you mean `flavor`?"), "{err}");
        let err = args_err(Kind::Test, quote!(worker_thread = 2));
        assert!(err.starts_with("`#[brisk::test]`"), "{err}");
        assert!(err.contains("did you mean `worker_threads`?"), "{err}");

        let err = args_err(Kind::Main, quote!(current_thread));
        assert!(err.contains("write `flavor = \"current_thread\"`"), "{err}");
        let err = args_err(Kind::Main, quote!(flavor));
        assert!(err.contains("needs a value for `flavor`"), "{err}");
    }

    #[test]
    fn bad_values() {
        let err = args_err(Kind::Main, quote!(flavor = "single"));
        assert!(err.contains("no runtime flavor \"single\""), "{err}");
        let err = args_err(Kind::Main, quote!(flavor = "multi-thread"));
        assert!(err.contains("did you mean \"multi_thread\"?"), "{err}");
        let err = args_err(Kind::Main, quote!(flavor = current_thread));
        assert!(err.contains("takes `flavor` as a string"), "{err}");

        let err = args_err(Kind::Main, quote!(worker_threads = 0));
        assert!(err.contains("use at least 1"), "{err}");
        let err = args_err(Kind::Main, quote!(worker_threads = "4"));
        assert!(err.contains("as an integer literal"), "{err}");
        let err = args_err(Kind::Main, quote!(worker_threads = -1));
        assert!(err.contains("as an integer literal"), "{err}");
    }

    #[test]
    fn syntax_errors() {
        let err = args_err(
            Kind::Main,
            quote!(flavor = "multi_thread" worker_threads = 2),
        );
        assert!(err.contains("expects a `,` between arguments"), "{err}");
        let err = args_err(Kind::Main, quote!("multi_thread"));
        assert!(err.contains("expects arguments like"), "{err}");
    }

    #[test]
    fn duplicates() {
        let err = args_err(
            Kind::Main,
            quote!(flavor = "multi_thread", flavor = "current_thread"),
        );
        assert!(err.contains("got `flavor` twice"), "{err}");
    }

    #[test]
    fn worker_threads_needs_multi_thread() {
        let err = args_err(
            Kind::Main,
            quote!(flavor = "current_thread", worker_threads = 2),
        );
        assert!(
            err.contains("only applies to the multi-thread runtime"),
            "{err}"
        );
        assert!(
            err.contains("asks for `flavor = \"current_thread\"`"),
            "{err}"
        );
        assert!(err.contains("add `flavor = \"multi_thread\"`"), "{err}");

        // Tests default to current_thread, so the flavor must be explicit.
        let err = args_err(Kind::Test, quote!(worker_threads = 2));
        assert!(
            err.contains("uses the `current_thread` flavor unless told otherwise"),
            "{err}"
        );
    }

    #[test]
    fn all_errors_are_reported() {
        let err = args_err(
            Kind::Main,
            quote!(foo = 1, flavor = "x", worker_threads = 0),
        );
        assert_eq!(err.lines().count(), 3, "{err}");
    }

    #[test]
    fn rejects_bad_signatures() {
        let err = fn_err(
            Kind::Main,
            quote!(
                fn main() {}
            ),
        );
        assert_eq!(
            err,
            "`#[brisk::main]` needs an `async fn`: write `async fn main()`"
        );
        let err = fn_err(
            Kind::Test,
            quote!(
                fn it_works() {}
            ),
        );
        assert!(
            err.starts_with("`#[brisk::test]` needs an `async fn`: write `async fn it_works()`"),
            "{err}"
        );

        let err = fn_err(
            Kind::Main,
            quote!(
                async fn main(args: Vec<String>) {}
            ),
        );
        assert!(err.contains("cannot take parameters"), "{err}");
        assert!(err.contains("std::env::args()"), "{err}");

        let err = fn_err(
            Kind::Test,
            quote!(
                async fn t<T: Default>() {}
            ),
        );
        assert!(err.contains("cannot be generic"), "{err}");
        let err = fn_err(
            Kind::Test,
            quote!(
                async fn t()
                where
                    u8: Copy,
                {
                }
            ),
        );
        assert!(err.contains("cannot be generic"), "{err}");

        let err = fn_err(
            Kind::Main,
            quote!(
                async unsafe fn main() {}
            ),
        );
        assert!(err.contains("cannot be `unsafe`"), "{err}");
        let err = fn_err(
            Kind::Main,
            quote!(
                async extern "C" fn main() {}
            ),
        );
        assert!(err.contains("cannot have an `extern` ABI"), "{err}");

        // Several problems at once are all reported.
        let err = fn_err(
            Kind::Main,
            quote!(
                fn main<T>(x: T) {}
            ),
        );
        assert_eq!(err.lines().count(), 3, "{err}");
    }

    #[test]
    fn test_refuses_a_second_test_attribute() {
        let err = fn_err(
            Kind::Test,
            quote!(
                #[test]
                async fn t() {}
            ),
        );
        assert!(
            err.contains("already adds `#[test]`: remove this `#[test]`"),
            "{err}"
        );
        let err = fn_err(
            Kind::Test,
            quote!(
                #[tokio::test]
                async fn t() {}
            ),
        );
        assert!(
            err.contains("cannot be combined with `#[tokio::test]`"),
            "{err}"
        );
        let err = fn_err(
            Kind::Test,
            quote!(
                #[::core::prelude::v1::test]
                async fn t() {}
            ),
        );
        assert!(err.contains("`#[::core::prelude::v1::test]`"), "{err}");
        let err = fn_err(
            Kind::Test,
            quote!(
                #[brisk::test]
                async fn t() {}
            ),
        );
        assert!(
            err.contains("is applied twice: remove this `#[brisk::test]`"),
            "{err}"
        );

        // Other attributes are fine.
        let func: ItemFn = syn::parse2(quote!(
            #[should_panic(expected = "boom")]
            #[cfg_attr(miri, ignore)]
            async fn t() {}
        ))
        .unwrap();
        assert!(check_fn(Kind::Test, &func).is_ok());
    }

    #[test]
    fn expands_main() {
        let out = text(expand(
            Kind::Main,
            quote!(),
            quote!(
                /// Docs stay.
                pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
                    Ok(())
                }
            ),
        ));
        assert!(
            out.starts_with("# [doc = r\" Docs stay.\"] pub fn main ()"),
            "{out}"
        );
        assert!(
            out.contains(
                "let __brisk_body = async move { \
                 if let :: core :: option :: Option :: Some (__brisk_never) = \
                 :: core :: option :: Option :: < Result < () , Box < dyn std :: error :: Error > > > :: None \
                 { return __brisk_never ; } \
                 '__brisk_body : { Ok (()) } } ;"
            ),
            "{out}"
        );
        assert!(
            out.contains(":: brisk :: Runtime :: builder () . multi_thread () . build ()"),
            "{out}"
        );
        assert!(
            out.ends_with("__brisk_rt . block_on (__brisk_body) }"),
            "{out}"
        );
        assert!(!out.contains("async fn"), "{out}");
        assert!(!out.contains("test"), "{out}");
    }

    #[test]
    fn expands_test() {
        let out = text(expand(
            Kind::Test,
            quote!(flavor = "multi_thread", worker_threads = 2, crate = "crate"),
            quote!(
                #[should_panic]
                async fn t() {
                    #![allow(unused)]
                    panic!()
                }
            ),
        ));
        assert!(
            out.starts_with("# [:: core :: prelude :: v1 :: test] # [should_panic] fn t ()"),
            "{out}"
        );
        // Inner attributes stay at the top of the function body.
        assert!(
            out.contains("fn t () { # ! [allow (unused)] let __brisk_body"),
            "{out}"
        );
        assert!(
            out.contains(":: core :: option :: Option :: < () > :: None"),
            "{out}"
        );
        assert!(out.contains("'__brisk_body : { panic ! () } } ;"), "{out}");
        assert!(
            out.contains(
                "crate :: Runtime :: builder () . multi_thread () . worker_threads (2) \
                 . deadlock_grace (:: core :: option :: Option :: Some (:: core :: time :: \
                 Duration :: from_secs (5u64 ,))) . panic_on_deadlock (true) . build ()"
            ),
            "{out}"
        );
    }

    #[test]
    fn impl_trait_and_never_returns_are_not_pinned() {
        let out = text(expand(
            Kind::Main,
            quote!(flavor = "current_thread"),
            quote!(
                async fn main() -> impl std::process::Termination {}
            ),
        ));
        assert!(
            out.contains("let __brisk_body = async move { '__brisk_body : { } } ;"),
            "{out}"
        );
        assert!(out.contains(". current_thread () . build ()"), "{out}");

        let out = text(expand(
            Kind::Main,
            quote!(),
            quote!(
                async fn main() -> ! {
                    loop {}
                }
            ),
        ));
        assert!(
            out.contains("let __brisk_body = async move { '__brisk_body : { loop { } } } ;"),
            "{out}"
        );
    }

    #[test]
    fn argument_errors_still_expand() {
        // A bad argument must not hide the function (no cascade of errors).
        let out = text(expand(
            Kind::Main,
            quote!(flavour = "x"),
            quote!(
                async fn main() {}
            ),
        ));
        assert!(out.contains("compile_error !"), "{out}");
        assert!(out.contains("fn main ()"), "{out}");
        assert!(out.contains("block_on"), "{out}");
    }

    #[test]
    fn signature_errors_keep_the_item() {
        let out = text(expand(
            Kind::Main,
            quote!(),
            quote!(
                fn main() {
                    work()
                }
            ),
        ));
        assert!(out.contains("compile_error !"), "{out}");
        assert!(out.ends_with("fn main () { work () }"), "{out}");
        assert!(!out.contains("block_on"), "{out}");

        let out = text(expand(
            Kind::Main,
            quote!(),
            quote!(
                struct S;
            ),
        ));
        assert!(
            out.contains("can only be applied to an `async fn`"),
            "{out}"
        );
        assert!(out.ends_with("struct S ;"), "{out}");
    }

    #[test]
    fn typo_suggestions() {
        assert_eq!(closest_arg("flavour"), Some("flavor"));
        assert_eq!(closest_arg("Flavor"), Some("flavor"));
        assert_eq!(closest_arg("workers_threads"), Some("worker_threads"));
        assert_eq!(closest_arg("krate"), Some("crate"));
        assert_eq!(closest_arg("threads"), None);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn backends_parse_all_and_lists() {
        let all = parse_args(Kind::Test, quote!(backends = all)).unwrap();
        assert_eq!(all.backends.unwrap().len(), 4);
        let some = parse_args(Kind::Test, quote!(backends = [sim, tokio], seeds = 5)).unwrap();
        assert_eq!(
            some.backends.unwrap(),
            [super::Backend::Sim, super::Backend::Tokio]
        );
        assert_eq!(some.seeds.map(|(n, _)| n), Some(5));
    }

    #[test]
    fn backends_misuse_names_the_fix() {
        let e = args_err(Kind::Test, quote!(backends = [current_thread, smol]));
        assert!(
            e.contains("unknown backend") && e.contains("`tokio`"),
            "{e}"
        );
        let e = args_err(Kind::Test, quote!(backends = all, flavor = "multi_thread"));
        assert!(e.contains("does not apply with `backends`"), "{e}");
        let e = args_err(Kind::Test, quote!(backends = [tokio], seeds = 3));
        assert!(
            e.contains("`seeds` only applies to the `sim` backend"),
            "{e}"
        );
        let e = args_err(Kind::Test, quote!(backends = [sim, sim]));
        assert!(e.contains("listed twice"), "{e}");
        let e = args_err(Kind::Main, quote!(backends = all));
        assert!(e.contains("`backends` is for tests"), "{e}");
        let e = args_err(Kind::Test, quote!(backend = all));
        assert!(e.contains("backends"), "{e}");
    }
}
