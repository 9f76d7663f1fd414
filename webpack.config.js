/* eslint-disable no-undef */
// Builds the add-in into dist/: taskpane.html (one page loading the pane, the functions and the
// commands: the shared runtime), functions.js + functions.json (metadata generated from the
// JSDoc, then given allowErrorForDataTypeAny so error cells reach us as missing values), the
// engine's Web Worker (lmm-worker.js), the icons and manifest.xml. `npm run build` needs no
// network and no certificates; only `npm start` (the dev server) asks for dev certificates.
const path = require("path");
const CopyWebpackPlugin = require("copy-webpack-plugin");
const CustomFunctionsMetadataPlugin = require("custom-functions-metadata-plugin");
const HtmlWebpackPlugin = require("html-webpack-plugin");

const urlDev = "https://localhost:3000/";
const urlProd = process.env.LMM_PROD_URL || "https://localhost:3000/";

/** Adds allowErrorForDataTypeAny to the generated functions.json (the generator cannot). */
class AllowErrorsPlugin {
  apply(compiler) {
    compiler.hooks.thisCompilation.tap("AllowErrorsPlugin", (compilation) => {
      compilation.hooks.processAssets.tap(
        { name: "AllowErrorsPlugin", stage: compiler.webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONS + 1 },
        () => {
          const asset = compilation.getAsset("functions.json");
          if (!asset) return;
          const meta = JSON.parse(asset.source.source().toString());
          meta.allowErrorForDataTypeAny = true;
          compilation.updateAsset("functions.json", new compiler.webpack.sources.RawSource(JSON.stringify(meta, null, 2)));
        },
      );
    });
  }
}

module.exports = async (env, options) => {
  const dev = options.mode === "development";
  const config = {
    devtool: dev ? "source-map" : false,
    entry: {
      taskpane: "./src/taskpane/taskpane.ts",
      functions: "./src/functions/functions.ts",
      commands: "./src/commands/commands.ts",
      "lmm-worker": "./src/worker/lmm.worker.ts",
    },
    output: { path: path.resolve(__dirname, "dist"), filename: "[name].js", clean: true },
    resolve: { extensions: [".ts", ".js"] },
    module: {
      rules: [
        { test: /\.ts$/, exclude: /node_modules/, use: { loader: "ts-loader", options: { configFile: "tsconfig.webpack.json", transpileOnly: true } } },
      ],
    },
    performance: { hints: false },
    plugins: [
      new CustomFunctionsMetadataPlugin({ output: "functions.json", input: "./src/functions/functions.ts" }),
      new AllowErrorsPlugin(),
      new HtmlWebpackPlugin({ filename: "taskpane.html", template: "./src/taskpane/taskpane.html", chunks: ["taskpane", "functions", "commands"] }),
      new CopyWebpackPlugin({
        patterns: [
          { from: "assets/icon-*.png", to: "assets/[name][ext]" },
          {
            from: "manifest.xml",
            to: "[name][ext]",
            transform: (content) => (dev ? content : content.toString().replace(new RegExp(urlDev.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"), "g"), urlProd)),
          },
        ],
      }),
    ],
  };
  if (env.WEBPACK_SERVE) {
    // Only the dev server needs HTTPS certificates (office-addin-dev-certs installs them).
    const devCerts = require("office-addin-dev-certs");
    const o = await devCerts.getHttpsServerOptions();
    config.devServer = {
      static: { directory: path.join(__dirname, "dist") },
      headers: { "Access-Control-Allow-Origin": "*" },
      server: { type: "https", options: { ca: o.ca, key: o.key, cert: o.cert } },
      port: 3000,
    };
  }
  return config;
};
