//! Rebuild when a migration is added, removed or edited: `embed_migrations!` reads the folders at
//! compile time, and cargo does not watch them on its own.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=migrations/movies");
    println!("cargo:rerun-if-changed=migrations/rollup");
}
