//! The black-box tests, in one binary (one build, one link): each module talks HTTP to real servers on
//! `127.0.0.1:0` over temporary databases. Most share the one server of [`common::shared`] and keep apart by using
//! networks of their own; `limits`, `fuzz` and `process` start servers (or the binary) of their own.

mod common;

mod access;
mod certificates;
mod discovery;
mod function_tickets;
mod fuzz;
mod guard;
mod inputs;
mod limits;
mod mail;
mod metrics;
mod migrate;
mod newcomer;
mod orders;
mod postgres;
mod process;
mod registrations;
mod smoke;
mod tickets;
mod transport;
