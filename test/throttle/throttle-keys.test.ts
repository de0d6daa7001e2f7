import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { accountAndIpKey, throttleIp, throttleUsername } from "../../src/core/throttle/throttle-keys.ts";

describe("throttle keys", () => {
  it("normalises usernames: NFKC, trimmed, lower case", () => {
    assert.equal(throttleUsername(" Ａｌｉｃｅ "), "alice");
    assert.equal(throttleUsername("ALICE@Example.COM"), "alice@example.com");
  });

  it("keeps IPv4 as is and unwraps IPv4-mapped IPv6", () => {
    assert.equal(throttleIp("203.0.113.7"), "203.0.113.7");
    assert.equal(throttleIp("::ffff:203.0.113.7"), "203.0.113.7");
    assert.equal(throttleIp("::FFFF:cb00:7107"), "203.0.113.7");
  });

  it("groups IPv6 by /64, whatever the spelling", () => {
    const prefix = "2001:db8:1:2::/64";
    for (const ip of [
      "2001:db8:1:2::1",
      "2001:0DB8:0001:0002:ffff:0:0:9",
      "2001:db8:1:2:a:b:c:d",
      "2001:db8:1:2::5%eth0",
    ]) {
      assert.equal(throttleIp(ip), prefix, ip);
    }
    assert.equal(throttleIp("::1"), "0:0:0:0::/64");
    assert.equal(throttleIp("2001:db8::"), "2001:db8:0:0::/64");
    assert.equal(throttleIp("64:ff9b::192.0.2.33"), "64:ff9b:0:0::/64");
    assert.notEqual(throttleIp("2001:db8:1:3::1"), prefix);
  });

  it("passes through what is not an IP address, bounded in length", () => {
    assert.equal(throttleIp("unknown"), "unknown");
    assert.equal(throttleIp("x".repeat(1_000)).length, 100);
  });

  it("gives one fixed-size key per account and address, with no username in it", () => {
    const key = accountAndIpKey("Alice", "::ffff:203.0.113.7");
    assert.equal(key, accountAndIpKey(" alice", "203.0.113.7"));
    assert.notEqual(key, accountAndIpKey("alice", "203.0.113.8"));
    assert.notEqual(key, accountAndIpKey("alicf", "203.0.113.7"));
    assert.ok(!key.includes("alice"));
    assert.equal(accountAndIpKey("a".repeat(10_000), "203.0.113.7").length, key.length);
  });
});
