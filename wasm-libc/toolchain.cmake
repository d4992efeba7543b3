# CMake toolchain for wasm32-unknown-unknown (CMAKE_TOOLCHAIN_FILE_wasm32_unknown_unknown
# in .cargo/config.toml; the cmake crate picks it up for opusic-sys' libopus build).
# Pins the LLVM 19 archiver: a GNU `ar`/`ranlib`, or an older llvm-ar found
# first on PATH, writes archives without a usable symbol index for wasm
# objects, and Rust's wasm-ld then cannot find libopus' symbols.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(CMAKE_C_COMPILER "${CMAKE_CURRENT_LIST_DIR}/cc")
set(CMAKE_AR "${CMAKE_CURRENT_LIST_DIR}/ar" CACHE FILEPATH "archiver" FORCE)
set(CMAKE_RANLIB "${CMAKE_CURRENT_LIST_DIR}/ranlib" CACHE FILEPATH "ranlib" FORCE)
# Nothing can be linked by CMake itself on this target: check by compiling only.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
