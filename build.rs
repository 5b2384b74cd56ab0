fn main() {
    // The knowledge folder is embedded in the binary: rebuild when any file in it changes.
    println!("cargo:rerun-if-changed=knowledge");
}
