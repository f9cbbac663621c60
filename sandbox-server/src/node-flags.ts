// The Node.js flags the server runs with, wherever it is started (`npm start`, the container image, the tests and the
// benchmarks, which must measure what users run). A flag must be given on the command line: V8 sizes its heap before
// any of our code runs (`v8.setFlagsFromString` at start-up was measured to change nothing).
//
// --max-semi-space-size=4: V8 lets the young generation grow to 16 MiB per semi-space, and start-up (loading and
// type-stripping every module) grows it to the maximum, where it stays: 151–154 MiB idle RSS, above the 150 MB
// target. With 4 MiB: 130 MiB (2 MiB: 127 MiB, 8 MiB: 139 MiB), read from /proc/<pid>/status 5 s after start with no
// sandbox. What it costs is more frequent minor collections, each of a smaller space; `npm run bench` measures it.
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
