import { describe, expect, it } from 'vitest';
import { parseDocument } from 'htmlparser2';
import { isTag } from 'domhandler';
import type { ChildNode } from 'domhandler';
import { renderHtmlView } from '../../src/mail/html-view.js';
import type { HtmlViewOptions } from '../../src/mail/html-view.js';

const PREFIX = '<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">';

const CIDS = new Map([
  ['logo@example.com', 'parts/2'],
  ['Banner.PNG@01D7', 'parts/3'],
]);

function view(html: string, options: Partial<HtmlViewOptions> = {}) {
  return renderHtmlView(html, { cidUrls: CIDS, allowRemote: false, ...options });
}

/** The part between <body> and </body>, enough for most assertions. */
function body(html: string, options: Partial<HtmlViewOptions> = {}): string {
  const out = view(html, options).html;
  const start = out.indexOf('<body');
  return out.slice(out.indexOf('>', start) + 1, out.lastIndexOf('</body>'));
}

/** Reads the output the way a second parser would and lists everything that could act. */
function dangers(html: string): string[] {
  const found: string[] = [];
  const stack: ChildNode[] = [...parseDocument(html, { decodeEntities: true }).children];
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (!isTag(node)) continue;
    if (['script', 'iframe', 'object', 'embed', 'base', 'form', 'input', 'frame', 'frameset', 'applet', 'noscript', 'template', 'foreignobject', 'animate', 'set'].includes(node.name)) {
      found.push(`<${node.name}>`);
    }
    if (node.name === 'meta' && ('http-equiv' in node.attribs || 'charset' in node.attribs) && node.attribs.charset !== 'utf-8') found.push('<meta http-equiv>');
    for (const [name, value] of Object.entries(node.attribs)) {
      const clean = value.replace(/[\u0000-\u0020]/g, '').toLowerCase();
      if (name.startsWith('on') || ['srcdoc', 'formaction', 'action', 'ping'].includes(name)) found.push(`${node.name}[${name}]`);
      if (/^(javascript|vbscript|file):|^data:(?!image\/(png|gif|jpeg|webp|bmp))/.test(clean)) found.push(`${node.name}[${name}=${value}]`);
      if (name === 'style' && /expression\(|-moz-binding|behavior/i.test(value)) found.push(`${node.name}[style=${value}]`);
    }
    if (node.name === 'style' && /</.test(node.children.map((c) => ('data' in c ? c.data : '')).join(''))) found.push('<style> with <');
    stack.push(...node.children);
  }
  return found;
}

describe('renderHtmlView: document shape', () => {
  it('wraps a fragment in a full UTF-8 document', () => {
    const out = view('<p>Hello</p>');
    expect(out.html).toBe(`${PREFIX}</head><body><p>Hello</p></body></html>`);
    expect(out.remoteBlocked).toBe(0);
  });

  it('keeps head content in the head, the email styles, html lang and body attributes', () => {
    const out = view(
      '<html lang="id" manifest="http://evil/m"><head><title>Promo</title><style>p { color: red }</style>' +
        '<meta name="viewport" content="width=device-width"></head>' +
        '<body bgcolor="#ffffff" style="margin:0"><p>Hi</p></body></html>',
    ).html;
    expect(out).toBe(
      '<!DOCTYPE html><html lang="id"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">' +
        '<title>Promo</title><style>p { color: red }</style><meta name="viewport" content="width=device-width">' +
        '</head><body bgcolor="#ffffff" style="margin:0"><p>Hi</p></body></html>',
    );
  });

  it('moves body content out of an unclosed head', () => {
    const out = view('<head><title>T</title><div>content</div>').html;
    expect(out).toBe(`${PREFIX}<title>T</title></head><body><div>content</div></body></html>`);
  });

  it('unwraps nested html/head/body of a forwarded message in place', () => {
    expect(body('<p>a</p><div><html><body><p>b</p></body></html></div>')).toBe('<p>a</p><div><p>b</p></div>');
  });

  it('keeps non-ASCII text readable and escapes markup characters in text', () => {
    expect(body('<p>Café – 日本語 – Ünïcödé 😀 &lt;b&gt; &amp;</p>')).toBe('<p>Café – 日本語 – Ünïcödé 😀 &lt;b&gt; &amp;</p>');
  });

  it('keeps ordinary structure exactly', () => {
    const html = '<table><tr><td><ul><li><b>one</b></li><li><i>two</i></li></ul></td></tr></table><p>a<br>b</p>';
    expect(body(html)).toBe(html);
  });

  it('re-escapes attribute values so nothing breaks out', () => {
    expect(body(`<a title='say "hi" &amp; <b>bye</b>'>x</a>`)).toBe('<a title="say &quot;hi&quot; &amp; <b>bye</b>">x</a>');
    expect(body('<img alt="&quot;><img src=x onerror=alert(1)>">')).toBe('<img alt="&quot;><img src=x onerror=alert(1)>">');
  });

  it('never copies comments, doctypes or processing instructions', () => {
    expect(body('<!-- --!><img src=x onerror=alert(1)> -->ok')).toBe('ok');
    expect(body('<!--[if mso]><xml>x</xml><![endif]-->ok<?xml:namespace prefix="o"?>')).toBe('ok');
    expect(body('<!DOCTYPE html><![CDATA[<img src=x onerror=alert(1)>]]>ok')).toBe('ok');
  });
});

describe('renderHtmlView: active content', () => {
  it('removes scripts with their content', () => {
    expect(body('a<script>alert(1)</script><SCRIPT SRC=//evil/x.js></SCRIPT>b')).toBe('ab');
    expect(body('<svg><script>alert(1)</script><circle r="1"/></svg>')).toBe('<svg><circle r="1"/></svg>');
  });

  it('removes every event handler attribute in any case', () => {
    expect(body('<img src="a.png" onerror="alert(1)" ONLOAD=x OnMouseOver=y>')).toBe('<img src="a.png">');
    expect(body('<svg onload=alert(1)><rect onclick="x" width="1"/></svg>')).toBe('<svg><rect width="1"/></svg>');
    expect(view('<body onload="alert(1)">x</body>').html).toContain('<body>x</body>');
    expect(body('<img/src="a.png"/onerror=alert(1)>')).not.toContain('onerror=');
  });

  it('removes embedded documents, plugins and templates', () => {
    const html =
      '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;" src="https://evil/"></iframe>' +
      '<object data="x.swf"><param name="a" value="b"></object><embed src="x.swf"><applet code="A"></applet>' +
      '<frameset><frame src="x"></frameset><template><img src=x onerror=alert(1)></template>' +
      '<portal src="https://evil/"></portal><noscript><p title="</noscript><img src=x onerror=alert(1)>"></p></noscript>ok';
    expect(body(html)).toBe('ok');
  });

  it('drops srcdoc, ping and formaction wherever they appear', () => {
    expect(body('<a href="https://x.test/" ping="https://evil/">x</a><div srcdoc="x" formaction="y">d</div>')).toBe(
      '<a href="https://x.test/" target="_blank" rel="noopener noreferrer">x</a><div>d</div>',
    );
  });

  it('unwraps forms and buttons, removes inputs', () => {
    expect(body('<form action="https://evil/steal" method="post"><label>Name</label><input name="n" value="v"><textarea>t</textarea><select><option>o</option></select><button formaction="javascript:alert(1)">Send</button></form>')).toBe(
      '<label>Name</label>Send',
    );
  });

  it('removes meta refresh, http-equiv, charset and base', () => {
    const out = view(
      '<head><meta http-equiv="refresh" content="0;url=javascript:alert(1)"><meta HTTP-EQUIV="Content-Security-Policy" content="x">' +
        '<meta http-equiv="set-cookie" content="a=b"><meta charset="iso-8859-1"><meta name="referrer" content="unsafe-url">' +
        '<base href="https://evil/"><base target="_top"></head><a href="x">x</a>',
    ).html;
    expect(out).toBe(`${PREFIX}</head><body><a href="x" target="_blank" rel="noopener noreferrer">x</a></body></html>`);
  });

  it('removes SVG that can script or animate links, and MathML', () => {
    expect(body('<svg><foreignObject><img src=x onerror=alert(1)></foreignObject><a><animate attributeName="href" values="javascript:alert(1)"/><set attributeName="href" to="javascript:alert(1)"/><text>t</text></a></svg>')).toBe(
      '<svg><a><text>t</text></a></svg>',
    );
    expect(body('<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>')).toBe('');
  });

  it('turns raw-text elements whose end a browser sees differently into plain text', () => {
    expect(body('<xmp><b>x</b></xmp>')).toBe('<pre>&lt;b&gt;x&lt;/b&gt;</pre>');
    expect(body('<plaintext>a</plaintext>')).toBe('<pre>a</pre>');
  });

  it('keeps only text inside <title> and <style>', () => {
    expect(body('<svg><p><style><img src=x onerror=alert(1)></style></p></svg>')).not.toMatch(/<img/);
    expect(body('<svg><title><a title="</title><img src=x onerror=alert(1)>">t</a></title></svg>')).not.toContain('<a');
  });

  it('drops elements and attributes whose names a browser could read differently', () => {
    expect(body('<img src="a.png" "onerror=alert(1)>')).toBe('<img src="a.png">');
    expect(body('<a"x href="y">t</a"x>')).toBe('t');
  });
});

describe('renderHtmlView: URL schemes', () => {
  const hostileHrefs = [
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'java&#x09;script:alert(1)',
    'java&#10;script:alert(1)',
    '&#106;&#97;vascript:alert(1)',
    '  \n javascript:alert(1)',
    '&#14;javascript:alert(1)',
    'javascript&colon;alert(1)',
    'vbscript:msgbox(1)',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'DATA:text/html,<script>alert(1)</script>',
    'data:image/svg+xml,<svg onload=alert(1)>',
    'file:///etc/passwd',
  ];

  for (const href of hostileHrefs) {
    it(`drops href="${href}"`, () => {
      expect(body(`<a href="${href}">x</a><area href="${href}">`)).toBe('<a>x</a><area>');
    });
  }

  it('drops javascript: on SVG links and uses', () => {
    expect(body('<svg><a xlink:href="javascript:alert(1)"><text>x</text></a><use href="data:image/svg+xml;base64,PHN2Zz4="/><use xlink:href="JAVASCRIPT:x"/></svg>')).toBe(
      '<svg><a><text>x</text></a><use/><use/></svg>',
    );
    expect(body('<svg><use href="#icon"/></svg>')).toBe('<svg><use href="#icon"/></svg>');
  });

  it('drops scripting schemes in every URL attribute', () => {
    expect(body('<img src="javascript:alert(1)" lowsrc="vbscript:x"><blockquote cite="javascript:x">q</blockquote><video poster="javascript:x"></video><table background="javascript:x"></table>')).toBe(
      '<img><blockquote>q</blockquote><video></video><table></table>',
    );
  });

  it('keeps raster data: images and drops other data: images', () => {
    expect(body('<img src="data:image/png;base64,iVBORw0KGgo=">')).toBe('<img src="data:image/png;base64,iVBORw0KGgo=">');
    expect(body('<img src="data:image/gif;base64,R0lGOD=">')).toBe('<img src="data:image/gif;base64,R0lGOD=">');
    expect(body('<img src="data:image/svg+xml;base64,PHN2Zz4=">')).toBe('<img>');
    expect(body('<img src="data:text/html,x">')).toBe('<img>');
  });

  it('keeps ordinary link schemes, including app deep links', () => {
    expect(body('<a href="mailto:a@b.test">m</a><a href="myapp://reset?t=1">d</a>')).toBe(
      '<a href="mailto:a@b.test" target="_blank" rel="noopener noreferrer">m</a><a href="myapp://reset?t=1" target="_blank" rel="noopener noreferrer">d</a>',
    );
  });
});

describe('renderHtmlView: links', () => {
  it('opens links in a new browsing context without opener or referrer, replacing target and rel', () => {
    expect(body('<a href="https://example.com/" target="_top" rel="opener">x</a>')).toBe(
      '<a href="https://example.com/" target="_blank" rel="noopener noreferrer">x</a>',
    );
    expect(body('<map name="m"><area href="https://example.com/" target="_parent"></map>')).toBe(
      '<map name="m"><area href="https://example.com/" target="_blank" rel="noopener noreferrer"></map>',
    );
  });

  it('leaves in-page fragment links in the frame', () => {
    expect(body('<a href="#section-2" target="_top">jump</a><a name="section-2" target="_top">here</a>')).toBe(
      '<a href="#section-2">jump</a><a name="section-2">here</a>',
    );
  });
});

describe('renderHtmlView: remote content', () => {
  const remoteHtml =
    '<img src="https://tracker.test/open.gif?id=1">' +
    '<img src="//cdn.test/a.png" srcset="http://cdn.test/a-2x.png 2x, img/local.png 3x">' +
    '<img src="\\\\evil.test\\x.png"><img src="/\\evil.test/y.png">' +
    '<table background="http://cdn.test/bg.png"><tr><td>x</td></tr></table>' +
    '<video poster="https://cdn.test/p.jpg"><source src="https://cdn.test/v.mp4"></video><audio src="http://cdn.test/a.mp3"></audio>' +
    '<div style="background: url(https://cdn.test/d.png)">d</div>';

  it('removes and counts each remote reference when remote content is not allowed', () => {
    const out = view(remoteHtml);
    expect(out.remoteBlocked).toBe(10);
    expect(out.html).not.toMatch(/cdn\.test|tracker\.test|evil\.test/);
    expect(out.html).toContain('<img srcset="img/local.png 3x">');
    expect(out.html).toContain('<div style="background: url()">d</div>');
  });

  it('keeps them when allowed', () => {
    const out = view(remoteHtml, { allowRemote: true });
    expect(out.remoteBlocked).toBe(0);
    expect(out.html).toContain('<img src="https://tracker.test/open.gif?id=1">');
    expect(out.html).toContain('srcset="http://cdn.test/a-2x.png 2x, img/local.png 3x"');
    expect(out.html).toContain('background="http://cdn.test/bg.png"');
    expect(out.html).toContain('url(&quot;https://cdn.test/d.png&quot;)');
  });

  it('handles stylesheets: <link>, @import and url() in <style>', () => {
    const html =
      '<head><link rel="stylesheet" href="https://fonts.test/css"><link rel="icon" href="https://x.test/i.ico"><link rel="preload" href="https://x.test/p">' +
      '<style>@import url("https://fonts.test/a.css"); @import \'//fonts.test/b.css\' screen; @IMPORT "https://fonts.test/c.css";' +
      ' .a { background: url(http://cdn.test/a.png) } .b { background: url(\'//cdn.test/b.png\') } .c { color: red }' +
      ' .d { background-image: image-set("https://cdn.test/d.png" 1x) }</style></head>x';
    const blocked = view(html);
    expect(blocked.remoteBlocked).toBe(7);
    expect(blocked.html).toBe(
      `${PREFIX}<style>   .a { background: url() } .b { background: url() } .c { color: red } .d { background-image: image-set("" 1x) }</style></head><body>x</body></html>`,
    );
    const allowed = view(html, { allowRemote: true });
    expect(allowed.remoteBlocked).toBe(0);
    expect(allowed.html).toContain('<link rel="stylesheet" href="https://fonts.test/css">');
    expect(allowed.html).not.toContain('i.ico');
    expect(allowed.html).toContain('@import url("https://fonts.test/a.css");');
    expect(allowed.html).toContain('url("http://cdn.test/a.png")');
  });

  it('sees url() through CSS escapes and comments', () => {
    const out = view('<div style="background: u\\rl(https://cdn.test/a.png); border-image: \\75 rl(\'//cdn.test/b.png\'); x:/**/url(http://cdn.test/c)/**/">x</div>');
    expect(out.html).not.toContain('cdn.test');
    expect(out.remoteBlocked).toBe(3);
  });
});

describe('renderHtmlView: cid: references', () => {
  it('rewrites cid: in src, background and srcset, matching case-insensitively and through <> and %-encoding', () => {
    const out = view(
      '<img src="cid:logo@example.com"><img src="cid:LOGO@Example.Com"><img src="cid:<logo@example.com>"><img src="cid:logo%40example.com">' +
        '<td background="cid:banner.png@01d7">x</td><img srcset="cid:logo@example.com 1x, cid:Banner.PNG@01D7 2x">',
    );
    expect(out.remoteBlocked).toBe(0);
    expect(out.html).toContain(
      '<img src="parts/2"><img src="parts/2"><img src="parts/2"><img src="parts/2"><td background="parts/3">x</td><img srcset="parts/2 1x, parts/3 2x">',
    );
  });

  it('accepts Content-IDs stored with angle brackets', () => {
    const out = renderHtmlView('<img src="cid:a@b">', { cidUrls: new Map([['<a@b>', 'parts/9']]), allowRemote: false });
    expect(out.html).toContain('<img src="parts/9">');
  });

  it('rewrites url(cid:...) in style attributes and <style>', () => {
    const out = view('<style>.h { background: url(cid:logo@example.com) } .i { background: url("cid:nope@x") }</style><div style="background-image:url(\'cid:Banner.PNG@01D7\')">x</div>');
    expect(out.html).toContain('<style>.h { background: url("parts/2") } .i { background: url() }</style>');
    expect(out.html).toContain('<div style="background-image:url(&quot;parts/3&quot;)">x</div>');
  });

  it('removes references to unknown Content-IDs', () => {
    expect(body('<img src="cid:unknown@x" alt="a"><img srcset="cid:unknown@x 1x">')).toBe('<img alt="a"><img>');
  });
});

describe('renderHtmlView: CSS', () => {
  it('neutralises expression(), -moz-binding and behavior', () => {
    const out = body(
      '<div style="width: expression(alert(1)); -moz-binding: url(x.xml#a); behavior: url(x.htc); BEHAVIOR:url(y.htc)">a</div>' +
        '<style>p { width: ex\\pression(alert(1)); -moz-binding: url(http://x/b.xml#c) }</style>',
    );
    expect(out).not.toMatch(/expression\(|-moz-binding|behavior/i);
    expect(out).toContain('x-removed(alert(1))');
  });

  it('keeps <style> text free of <, while old comment wrappers still work', () => {
    expect(body('<style><!-- p { color: red } --></style>')).toBe('<style>  p { color: red }  </style>');
    expect(body('<style>p::after { content: "a<b" }</style>')).toBe('<style>p::after { content: "a\\3c b" }</style>');
  });
});

describe('renderHtmlView: hostile input', () => {
  const vectors = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<svg onload=alert(1)>',
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<a href="JaVa&#x09;ScRiPt:alert(1)">x</a>',
    '<iframe src="data:text/html,<script>alert(1)</script>"></iframe>',
    '<meta http-equiv="refresh" content="0;url=https://evil/">',
    '<base href="https://evil/">',
    '<form action="https://evil/"><input type="submit"></form>',
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    '<body onload=alert(1)>',
    '<details open ontoggle=alert(1)>',
    '<video><source onerror="alert(1)"></video>',
    '<style>@import "javascript:alert(1)";</style>',
    '<div style="background:url(javascript:alert(1))">',
    '<a href="&#x6A;avascript&#x3A;alert(1)">x</a>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    '<math><mi><style><img src=x onerror=alert(1)></style></mi></math>',
    '<table><tr><td><style></td><img src=x onerror=alert(1)></style>',
    '<isindex action="javascript:alert(1)" type=image>',
    '<xmp></xmp><img src=x onerror=alert(1)></xmp>',
    '<image src=x onerror=alert(1)>',
    '<a href="  javascript:alert(1)">x</a><a href="java\u0000script:alert(1)">y</a>',
    '<svg><use href="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"/></svg>',
    '<svg><set attributeName="onmouseover" to="alert(1)"/></svg>',
    '<link rel="import" href="https://evil/x.html">',
    '<frameset onload=alert(1)>',
  ];

  it('leaves nothing that could act in any of the usual vectors', () => {
    for (const vector of vectors) {
      for (const allowRemote of [false, true]) {
        expect({ vector, found: dangers(view(vector, { allowRemote }).html) }).toEqual({ vector, found: [] });
      }
    }
  });

  it('does not throw on malformed input', () => {
    const inputs = [
      '', '<', '<a href=', '<<<>>>', '</', '<!--', '<![CDATA[', '<?', '&#xFFFFFFFF;', '&#0;\u0000<\u0000a>',
      '<style>', '<style>url(', '<style>@import', '<div style="url(\'', '<img srcset=",,,">', '<a href="cid:%E0%A4%A">x</a>',
      '\ud800\udc00\ud800', '<svg><svg><svg>', '</html></body><body><html><head>',
    ];
    for (const input of inputs) {
      const out = view(input);
      expect(out.html.startsWith(PREFIX)).toBe(true);
      expect(out.html.endsWith('</body></html>')).toBe(true);
    }
  });

  it('survives 20,000 levels of nesting', () => {
    const depth = 20_000;
    const out = view(`${'<div>'.repeat(depth)}deep${'</div>'.repeat(depth)}<p>after</p>`).html;
    expect(out).toContain('deep');
    expect(out).toContain('<p>after</p>');
    const svg = view(`${'<svg><g>'.repeat(depth)}<script>alert(1)</script>x`).html;
    expect(svg).not.toContain('script');
  });

  it('removes scripts and handlers beyond the nesting cap too', () => {
    const out = view(`${'<span>'.repeat(2000)}<script>alert(1)</script><img src=x onerror=alert(1)><b onclick=x>t</b>`).html;
    expect(out).not.toMatch(/script|onerror|onclick/);
    expect(out).toContain('t');
  });

  it('stays linear for deep nesting and stray end tags (htmlparser2 alone is quadratic here)', () => {
    const depth = 100_000;
    const out = view(`${'<div>'.repeat(depth)}${'</span>'.repeat(depth)}x`).html;
    expect(out).toContain('x</div>');
  });
});
