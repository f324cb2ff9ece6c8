import assert from "node:assert/strict";
import { test } from "node:test";
import { editDistance, nearest } from "../../src/runtime/did-you-mean.js";
import { ConfigError, loadConfig } from "../../src/runtime/options.js";

test("edit distance counts a swap of neighbours as one edit", () => {
  assert.equal(editDistance("port", "port"), 0);
  assert.equal(editDistance("prot", "port"), 1);
  assert.equal(editDistance("data-dr", "data-dir"), 1);
  assert.equal(editDistance("", "abc"), 3);
  assert.equal(editDistance("kitten", "sitting"), 3);
});

test("the nearest candidate within a third of the word, else none", () => {
  const flags = ["--port", "--grpc-port", "--host", "--ip", "--data-dir"];
  assert.equal(nearest("--prot", flags), "--port");
  assert.equal(nearest("--grpcport", flags), "--grpc-port");
  assert.equal(nearest("--data-dr", flags), "--data-dir");
  assert.equal(nearest("--xyz", flags), undefined);
  assert.equal(nearest(`--${"x".repeat(100_000)}`, flags), undefined);
});

test("a misspelt option stops the node naming the one meant, instead of the whole --help", () => {
  const refusal = (argv: string[]): string => {
    try {
      loadConfig(argv, {}, "/nonexistent");
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.message;
    }
    assert.fail("accepted");
  };
  assert.equal(refusal(["--prot", "8848"]), "unknown option --prot: did you mean --port? (--help lists every option)");
  assert.equal(refusal(["--log-fromat=json"]), "unknown option --log-fromat: did you mean --log-format? (--help lists every option)");
  assert.equal(refusal(["--verison"]), "unknown option --verison: did you mean --version? (--help lists every option)");
  assert.equal(refusal(["--no-standalon"]), "unknown option --no-standalon: did you mean --no-standalone? (--help lists every option)");
  assert.equal(refusal(["--completely-different"]), "unknown option --completely-different (--help lists every option)");
});
