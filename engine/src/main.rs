//! The `engine` binary.

// mimalloc: chunking and parsing allocate many small strings; with it the recursive chunker
// runs about 1.5× as fast as with the system allocator (`just bench-chunk`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    operators::embed::onnx::disable_telemetry();
    std::process::exit(engine::cli::main());
}
