//! Configuration file. Stub.
