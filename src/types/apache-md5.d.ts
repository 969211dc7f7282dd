/**
 * apache-md5 ships a declaration with `export default`, but the package is CommonJS and exports the
 * function itself (`module.exports = fn`), so under NodeNext its own typing makes the default
 * import look uncallable. This states what the module really is.
 */
declare module 'apache-md5' {
  /** Apache's `$apr1$` MD5-crypt of `password`; `salt` is a hash (`$apr1$salt$…`) or `$apr1$salt$` to reuse. */
  function aprMd5(password: string, salt?: string): string;
  export = aprMd5;
}
