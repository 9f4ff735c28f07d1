//! One binding file -> a validated `Binding`. Stub.
