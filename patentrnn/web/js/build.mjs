// Builds the app page's front end into the Voilà template's static files:
//   static/frontend/app-<hash>.js and .css   (content-hashed: cached for a year, immutable)
//   frontend.html                            (the tags the template includes)
//   static/frontend/meta.json                (esbuild's metafile: bytes by package)
// and records the sources' sha256, so that a stale build is told apart (patentrnn/web/frontend.py).
// Earlier builds' files stay one build longer: a page preheated before a rebuild still finds them.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const template = join(here, "..", "..", "jupyter", "voila", "templates", "patentrnn");
const outdir = join(template, "static", "frontend");
const SOURCES = ["build.mjs", "package.json", "package-lock.json", "src"];

export function sourceDigest() {
  const hash = createHash("sha256");
  const walk = (path) =>
    statSync(path).isDirectory()
      ? readdirSync(path).sort().forEach((name) => walk(join(path, name)))
      : hash.update(`${relative(here, path)}\n`).update(readFileSync(path));
  SOURCES.forEach((name) => walk(join(here, name)));
  return hash.digest("hex");
}

// anywidget's dist ends in an AMD define(["@jupyter-widgets/base"], factory): export the factory.
const anywidgetAsModule = {
  name: "anywidget-as-module",
  setup(build) {
    build.onLoad({ filter: /anywidget[\\/]dist[\\/]index\.js$/ }, (args) => {
      const code = readFileSync(args.path, "utf8");
      const amd = 'define(["@jupyter-widgets/base"], widget_default);';
      if (!code.includes(amd)) throw new Error("anywidget's dist no longer ends in its AMD define: update build.mjs");
      return { contents: code.replace(amd, "export default widget_default;"), loader: "js" };
    });
  },
};

const packageVersion = (name) => JSON.parse(readFileSync(join(here, "node_modules", name, "package.json"), "utf8")).version;
const specVersion = (name, constant) =>
  readFileSync(join(here, "node_modules", name, "lib/version.js"), "utf8").match(new RegExp(`${constant} = '([^']+)'`))[1];
const anywidgetVersion = packageVersion("anywidget");
// what the bundle answers a kernel's widget with: module -> the version its classes implement (tests compare)
const modules = {
  "@jupyter-widgets/base": specVersion("@jupyter-widgets/base", "JUPYTER_WIDGETS_VERSION"),
  "@jupyter-widgets/controls": specVersion("@jupyter-widgets/controls", "JUPYTER_CONTROLS_VERSION"),
  anywidget: anywidgetVersion,
};
const packages = Object.fromEntries(
  ["@jupyter-widgets/base", "@jupyter-widgets/base-manager", "@jupyter-widgets/controls", "@jupyterlab/services", "anywidget"].map(
    (name) => [name, packageVersion(name)],
  ),
);
const result = await esbuild.build({
  entryPoints: { app: join(here, "src/app.js") },
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  outdir,
  write: false, // written below, named by their sha256 (hex, as delivery.HASHED_NAME expects)
  metafile: true,
  legalComments: "none",
  // @jupyterlab/services logs each websocket it opens with console.debug: with DevTools or Lighthouse
  // attached, that one call took 210 ms of a phone's CPU (4x) before the form could show
  pure: ["console.debug"],
  loader: { ".svg": "dataurl", ".png": "dataurl", ".woff": "file", ".woff2": "file" },
  alias: { "sanitize-html": join(here, "src/sanitize.js"), jquery: join(here, "src/jquery.js") },
  define: { ANYWIDGET_VERSION: JSON.stringify(anywidgetVersion), "process.env.NODE_ENV": '"production"' },
  plugins: [anywidgetAsModule],
  logLevel: "warning",
});

mkdirSync(outdir, { recursive: true });
const files = result.outputFiles.map((file) => {
  const name = file.path.replace(/(\.[a-z]+)$/, `-${createHash("sha256").update(file.contents).digest("hex").slice(0, 16)}$1`);
  writeFileSync(name, file.contents);
  return relative(outdir, name);
});
const js = files.find((name) => name.endsWith(".js"));
const css = files.find((name) => name.endsWith(".css"));
writeFileSync(join(outdir, "meta.json"), JSON.stringify(result.metafile));
const previous = existsSync(join(outdir, "build.json")) ? JSON.parse(readFileSync(join(outdir, "build.json"))) : { files: [] };
for (const name of readdirSync(outdir)) {
  if (/^app-/.test(name) && !files.includes(name) && !previous.files.includes(name)) rmSync(join(outdir, name));
}
writeFileSync(join(outdir, "build.json"), JSON.stringify({ sources: sourceDigest(), files, modules, packages }, null, 1));
writeFileSync(
  join(template, "frontend.html"),
  `{#- written by patentrnn/web/js/build.mjs: do not edit -#}
<link rel="stylesheet" href="{{ resources.include_url('static/frontend/${css}') }}">
<script src="{{ resources.include_url('static/frontend/${js}') }}" data-patentrnn-bundle></script>
`,
);
console.log(`built ${files.join(", ")} in ${relative(process.cwd(), outdir) || "."}`);
