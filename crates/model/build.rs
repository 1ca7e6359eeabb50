// `embed_migrations!` reads the migrations at compile time; without this, editing a
// migration would leave a stale copy embedded in the crate.
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
