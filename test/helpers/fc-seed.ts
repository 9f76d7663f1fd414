// Loaded before every test file (test/run.js): the property tests draw their cases from one
// fixed seed, so a run in CI is the run on the developer's machine. FC_SEED picks another seed
// to explore; a failure prints the seed and path that reproduce it.
import fc from "fast-check";

fc.configureGlobal({ seed: Number(process.env.FC_SEED ?? 20261202) });
