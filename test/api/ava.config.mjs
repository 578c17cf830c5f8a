// TEMPORARY (to be removed): ava 8 needs extensions as an array.
export default { extensions: ['ts'], files: ['test/api/*.test.ts'], timeout: '60s', workerThreads: false };
