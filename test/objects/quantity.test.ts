import test from 'ava';
import { formatBytes, formatMilliCpu, isQuantity, parseBytes, parseMilliCpu, QuantityError } from '../../src/objects/quantity.ts';

// Expected values are computed by hand from the Kubernetes quantity rules.
const MILLI_CPU: Array<[string | number, number]> = [
  ['2', 2000],
  ['500m', 500],
  ['1.5', 1500],
  ['0.1', 100],
  ['100u', 1], // 0.1 millicore rounds up to 1
  ['1n', 1], // so does a nanocore
  ['1e3', 1_000_000], // 1000 cores
  ['1E3', 1_000_000],
  [4, 4000],
  [0.25, 250],
  ['1k', 1_000_000],
  ['0', 0],
  ['0m', 0],
  ['.5', 500],
  ['+1', 1000],
  ['1e-3', 1],
  ['2500m', 2500],
  ['1.0005', 1001], // 1000.5 millicores rounds up
  ['9007199254740.991', Number.MAX_SAFE_INTEGER],
];

for (const [input, expected] of MILLI_CPU) {
  test(`parseMilliCpu(${JSON.stringify(input)}) = ${expected}`, (t) => {
    t.is(parseMilliCpu(input), expected);
  });
}

test('parseMilliCpu: a negative quantity parses (its range is checked by validation)', (t) => {
  t.is(parseMilliCpu('-1'), -1000);
  t.is(parseMilliCpu('-250m'), -250);
  t.is(parseMilliCpu(-2), -2000);
});

test('parseMilliCpu: exact decimal arithmetic, no float drift', (t) => {
  t.is(0.1 + 0.2 === 0.3, false, 'the float trap this guards against');
  t.is(parseMilliCpu('0.1') + parseMilliCpu('0.2'), 300);
  t.is(parseMilliCpu('0.3'), 300);
  t.is(parseMilliCpu(0.1) + parseMilliCpu(0.2), 300);
  t.is(parseMilliCpu('1.1'), 1100);
  t.is(parseMilliCpu('0.7'), 700);
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += parseMilliCpu('0.1');
  t.is(sum, 1000);
});

const BYTES: Array<[string | number, number]> = [
  ['256Mi', 268_435_456],
  ['1Gi', 1_073_741_824],
  ['1G', 1_000_000_000],
  ['1.5Gi', 1_610_612_736],
  ['128974848', 128_974_848],
  ['129e6', 129_000_000],
  ['129M', 129_000_000],
  ['123Mi', 128_974_848],
  ['1Ki', 1024],
  ['1k', 1000],
  ['2Ti', 2_199_023_255_552],
  ['0.5', 1], // half a byte rounds up
  ['1m', 1],
  [7.5, 8],
  [1024, 1024],
];

for (const [input, expected] of BYTES) {
  test(`parseBytes(${JSON.stringify(input)}) = ${expected}`, (t) => {
    t.is(parseBytes(input), expected);
  });
}

const INVALID: Array<string | number> = [
  '', ' ', 'abc', '1.2.3', '1Gb', '1gi', '1KI', '--1', '+-1', '1 Gi', 'Gi', '.', '1e', '1e+', '0x10', '1,000',
  NaN, Infinity, -Infinity,
  '1e400', // exponent out of range
];

for (const input of INVALID) {
  test(`parseMilliCpu and parseBytes reject ${JSON.stringify(String(input))}`, (t) => {
    t.throws(() => parseMilliCpu(input), { instanceOf: QuantityError });
    t.throws(() => parseBytes(input), { instanceOf: QuantityError });
    t.false(isQuantity(input));
  });
}

test('values above Number.MAX_SAFE_INTEGER are rejected, not rounded', (t) => {
  // In millicores, anything from 9007199254740.992 cores up is too large.
  t.throws(() => parseMilliCpu('9007199254740.992'), { instanceOf: QuantityError });
  t.throws(() => parseMilliCpu('9007199254741'), { instanceOf: QuantityError });
  t.throws(() => parseMilliCpu('1e30'), { instanceOf: QuantityError });
  t.throws(() => parseMilliCpu(1e21), { instanceOf: QuantityError });
  t.throws(() => parseMilliCpu('-1e30'), { instanceOf: QuantityError });
  t.is(parseBytes(String(Number.MAX_SAFE_INTEGER)), Number.MAX_SAFE_INTEGER);
  t.throws(() => parseBytes('9007199254740992'), { instanceOf: QuantityError });
  t.throws(() => parseBytes('8Ei'), { instanceOf: QuantityError });
  t.throws(() => parseBytes('1e16'), { instanceOf: QuantityError });
  t.is(parseBytes('1e15'), 1e15);
  t.is(parseBytes('7Pi'), 7 * 2 ** 50);
});

test('isQuantity accepts quantities and rejects non-quantities', (t) => {
  t.true(isQuantity('500m'));
  t.true(isQuantity('1Gi'));
  t.true(isQuantity(3));
  t.false(isQuantity('1Gb'));
  t.false(isQuantity(undefined));
  t.false(isQuantity(null));
  t.false(isQuantity({ cpu: 1 }));
  t.false(isQuantity(true));
});

test('formatMilliCpu prints whole cores plainly and the rest in millicores', (t) => {
  t.is(formatMilliCpu(1500), '1500m');
  t.is(formatMilliCpu(2000), '2');
  t.is(formatMilliCpu(250), '250m');
  t.is(formatMilliCpu(1), '1m');
  t.is(formatMilliCpu(0), '0');
  t.is(formatMilliCpu(64000), '64');
});

test('formatBytes uses the largest binary suffix that divides exactly', (t) => {
  t.is(formatBytes(268_435_456), '256Mi');
  t.is(formatBytes(1000), '1000');
  t.is(formatBytes(1024), '1Ki');
  t.is(formatBytes(1536), '1536');
  t.is(formatBytes(1_073_741_824), '1Gi');
  t.is(formatBytes(1_610_612_736), '1536Mi');
  t.is(formatBytes(128_974_848), '123Mi');
  t.is(formatBytes(2 ** 40 * 3), '3Ti');
  t.is(formatBytes(0), '0');
});

test('format and parse round-trip', (t) => {
  for (const milli of [1, 250, 1000, 1500, 2000, 123_456]) t.is(parseMilliCpu(formatMilliCpu(milli)), milli);
  for (const bytes of [1, 1000, 1024, 268_435_456, 1_610_612_736, 5 * 2 ** 30]) t.is(parseBytes(formatBytes(bytes)), bytes);
});
