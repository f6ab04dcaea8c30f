//! Pure logic of the server: no I/O, no clock reads (`now` is always a parameter).

pub mod codes;
pub mod duration;
pub mod feed;
pub mod opening;
pub mod throttle;
pub mod timing;
