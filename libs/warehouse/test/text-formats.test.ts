import { Ajv } from 'ajv'
import t from 'tap'
import { addTextFormats, firstForbiddenCharacter, TEXT_FORMATS, textLine, textLines } from '../src/request-schemas.js'

t.test('one line: any character people write, none that a terminal or a database would choke on', async (t) => {
  for (const ok of [
    '',
    'Ada Lovelace',
    'München, Straße 5',
    'Zürich 😀',
    '北京市',
    'e\u0301',
    '\u00a0non-breaking',
    'x\u0085y',
  ]) {
    t.equal(firstForbiddenCharacter(ok, false), -1, JSON.stringify(ok))
  }
  const refused: Array<[string, number]> = [
    ['\u0000', 0],
    ['Ada\tLovelace', 3],
    ['Ada\nLovelace', 3],
    ['ab\u001b[31m', 2],
    ['del\u007f', 3],
    ['\ud800', 0],
    ['end\ud83d', 3],
    ['\udc00start', 0],
    ['swapped \ude00\ud83d', 8],
  ]
  for (const [text, at] of refused) t.equal(firstForbiddenCharacter(text, false), at, `${JSON.stringify(text)} at ${at}`)
})

t.test('several lines: tab and line breaks too, nothing else', async (t) => {
  t.equal(firstForbiddenCharacter('line one\r\nline two\n\tindented', true), -1)
  t.equal(firstForbiddenCharacter('bell\u0007', true), 4)
  t.equal(firstForbiddenCharacter('half \ud800', true), 5)
})

t.test('as Ajv formats, with their bounds', async (t) => {
  const ajv = new Ajv({ strict: false })
  addTextFormats(ajv)
  const line = ajv.compile(textLine(10))
  const lines = ajv.compile(textLines(10))
  t.ok(line('Linz'))
  t.notOk(line('Li\u0000nz'))
  t.match(line.errors, [{ keyword: 'format', params: { format: TEXT_FORMATS.line } }])
  t.notOk(line('x'.repeat(11)), 'maxLength still holds')
  t.ok(lines('a\nb'))
  t.notOk(lines(''), 'text of lines needs at least one character')
})
