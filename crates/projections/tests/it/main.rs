//! Integration tests of the read models: golden reports of the committed fixture, one
//! scenario per alarm rule, restart from snapshots, live following and the decoders.

mod alarms;
mod golden;
mod helpers;
mod runtime;
