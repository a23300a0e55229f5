//! Black-box tests over HTTP: one binary, one shared server (see `common`), one module per area.

mod common;
mod smoke;
