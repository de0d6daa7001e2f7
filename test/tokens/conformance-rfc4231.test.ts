import assert from "node:assert/strict";
import { createSecretKey } from "node:crypto";
import { describe, it } from "node:test";
import type { SigningKey } from "../../src/core/keys/key-ring.ts";
import { createHmacSha256 } from "../../src/core/tokens/hmac-sha256.ts";
import { signJws, verifyJws } from "../../src/core/tokens/jws-signature.ts";

/**
 * RFC 4231 §4 "Test Vectors": every case, with its HMAC-SHA-256 result. Key and data are
 * the hex the RFC prints; long runs of one byte are written with repeat() and the count
 * the RFC states. Test case 5 (§4.6) publishes only the output truncated to 128 bits.
 */
interface Rfc4231Case {
  section: string;
  key: string;
  data: string;
  hmacSha256: string;
  truncatedTo128Bits?: true;
}

const CASES: Rfc4231Case[] = [
  {
    section: "4.2 (test case 1)",
    key: "0b".repeat(20),
    data: "4869205468657265", // "Hi There"
    hmacSha256: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
  },
  {
    section: "4.3 (test case 2: a key shorter than the length of the HMAC output)",
    key: "4a656665", // "Jefe"
    data: "7768617420646f2079612077616e7420666f72206e6f7468696e673f", // "what do ya want for nothing?"
    hmacSha256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
  },
  {
    section: "4.4 (test case 3: combined length of key and data larger than 64 bytes)",
    key: "aa".repeat(20),
    data: "dd".repeat(50),
    hmacSha256: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
  },
  {
    section: "4.5 (test case 4)",
    key: "0102030405060708090a0b0c0d0e0f10111213141516171819",
    data: "cd".repeat(50),
    hmacSha256: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
  },
  {
    section: "4.6 (test case 5: truncation to 128 bits)",
    key: "0c".repeat(20),
    data: "546573742057697468205472756e636174696f6e", // "Test With Truncation"
    hmacSha256: "a3b6167473100ee06e0c796c2955552b",
    truncatedTo128Bits: true,
  },
  {
    section: "4.7 (test case 6: a key larger than the 64-byte block, hashed first)",
    key: "aa".repeat(131),
    // "Test Using Larger Than Block-Size Key - Hash Key First"
    data:
      "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a65" +
      "204b6579202d2048617368204b6579204669727374",
    hmacSha256: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
  },
  {
    section: "4.8 (test case 7: key and data both larger than the block)",
    key: "aa".repeat(131),
    // "This is a test using a larger than block-size key and a larger than block-size data.
    //  The key needs to be hashed before being used by the HMAC algorithm."
    data:
      "5468697320697320612074657374207573696e672061206c6172676572207468" +
      "616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074" +
      "68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565" +
      "647320746f20626520686173686564206265666f7265206265696e6720757365" +
      "642062792074686520484d414320616c676f726974686d2e",
    hmacSha256: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
  },
];

const hex = (text: string) => Buffer.from(text, "hex");
/** The HMAC functions take the JWS signing input as a string of byte-valued characters. */
const asByteString = (text: string) => hex(text).toString("latin1");

/** What an HS256 signing key made from raw key bytes looks like to signJws. */
function hs256Key(keyBytes: Buffer): SigningKey {
  const key = createSecretKey(keyBytes);
  return { kid: "rfc4231", alg: "HS256", key, privateKey: key, encodedHeader: "" };
}

describe("RFC 4231 HMAC-SHA-256 test vectors", () => {
  for (const vector of CASES) {
    const expectedLength = vector.truncatedTo128Bits ? 16 : 32;

    it(`§${vector.section}: the verifier's HMAC (createHmacSha256)`, () => {
      const mac = createHmacSha256(hex(vector.key))(asByteString(vector.data));
      assert.equal(mac.length, 32);
      assert.equal(mac.subarray(0, expectedLength).toString("hex"), vector.hmacSha256);
    });

    it(`§${vector.section}: the signer's HS256 signature (signJws)`, () => {
      const signature = Buffer.from(signJws(hs256Key(hex(vector.key)), asByteString(vector.data)), "base64url");
      assert.equal(signature.length, 32);
      assert.equal(signature.subarray(0, expectedLength).toString("hex"), vector.hmacSha256);
    });

    if (vector.truncatedTo128Bits) {
      it(`§${vector.section}: a truncated MAC is no JWS signature (RFC 7518 §3.2 uses the whole output)`, () => {
        assert.equal(verifyJws(hs256Key(hex(vector.key)), asByteString(vector.data), hex(vector.hmacSha256)), false);
      });
    } else {
      it(`§${vector.section}: verifyJws accepts the RFC's MAC and refuses it with one bit flipped`, () => {
        const key = hs256Key(hex(vector.key));
        const mac = hex(vector.hmacSha256);
        assert.equal(verifyJws(key, asByteString(vector.data), mac), true);
        for (const bit of [0, 7, 8 * 31 + 7]) {
          const flipped = Buffer.from(mac);
          flipped[bit >> 3]! ^= 1 << (bit & 7);
          assert.equal(verifyJws(key, asByteString(vector.data), flipped), false, `bit ${bit}`);
        }
      });
    }
  }

  it("one prepared key gives every vector for its key, in any order and after a long message (scratch reuse)", () => {
    const blockSizeKey = createHmacSha256(hex("aa".repeat(131)));
    const [case6, case7] = [CASES[5]!, CASES[6]!];
    for (const vector of [case7, case6, case7]) {
      assert.equal(blockSizeKey(asByteString(vector.data)).toString("hex"), vector.hmacSha256);
      blockSizeKey("x".repeat(5000)); // grows the internal buffer past its first size
    }
  });
});
