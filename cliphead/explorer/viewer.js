// The head viewer's front end (cliphead/explorer/viewer.py): a WebGL2 renderer of one textured mesh with an
// orbit camera. Drag to rotate, shift-drag or right-drag to pan, wheel to zoom, double-click to reset.

const VERTEX_SHADER = `#version 300 es
in vec3 position;
in vec3 normal;
in vec2 uv;
uniform mat4 projection;
uniform mat4 view;
uniform float depthBias;
out vec3 viewNormal;
out vec2 surfaceUv;
void main() {
  viewNormal = mat3(view) * normal;
  surfaceUv = uv;
  gl_Position = projection * view * vec4(position, 1.0);
  gl_Position.z -= depthBias * gl_Position.w;
  gl_PointSize = 7.0;
}`;

// mode: 0 texture, 1 normal map, 2 UV checker, 3 shading, 4 flat colour (wireframe, landmarks)
const FRAGMENT_SHADER = `#version 300 es
precision highp float;
in vec3 viewNormal;
in vec2 surfaceUv;
uniform sampler2D image;
uniform int mode;
uniform vec3 colour;
out vec4 fragment;
void main() {
  if (mode == 4) { fragment = vec4(colour, 1.0); return; }
  vec3 n = normalize(viewNormal);
  float light = 0.35 + 0.65 * max(dot(n, normalize(vec3(0.3, 0.4, 0.87))), 0.0);
  vec3 base = vec3(0.8);
  if (mode <= 1) base = texture(image, vec2(surfaceUv.x, 1.0 - surfaceUv.y)).rgb;
  if (mode == 2) {
    vec2 cell = floor(surfaceUv * 16.0);
    base = mod(cell.x + cell.y, 2.0) < 1.0 ? vec3(0.92) : vec3(0.25, 0.45, 0.8);
  }
  fragment = vec4(mode == 1 ? base : base * light, 1.0);
}`;

const MODES = { texture: 0, "normal map": 1, "UV checker": 2, shading: 3 };

function floats(view) {
  return view && view.byteLength ? new Float32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength)) : new Float32Array(0);
}

function uints(view) {
  return view && view.byteLength ? new Uint32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength)) : new Uint32Array(0);
}

function perspective(fovY, aspect, near, far) {
  const f = 1 / Math.tan(fovY / 2);
  return [f / aspect, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + near) / (near - far), -1, 0, 0, (2 * far * near) / (near - far), 0];
}

function lookAt(eye, target, up) {
  const sub = (a, b) => a.map((x, i) => x - b[i]);
  const norm = (a) => { const l = Math.hypot(...a); return a.map((x) => x / l); };
  const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
  const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
  const z = norm(sub(eye, target)), x = norm(cross(up, z)), y = cross(z, x);
  return [x[0], y[0], z[0], 0, x[1], y[1], z[1], 0, x[2], y[2], z[2], 0, -dot(x, eye), -dot(y, eye), -dot(z, eye), 1];
}

function program(gl) {
  const compile = (type, source) => {
    const shader = gl.createShader(type);
    gl.shaderSource(shader, source);
    gl.compileShader(shader);
    if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(shader));
    return shader;
  };
  const linked = gl.createProgram();
  gl.attachShader(linked, compile(gl.VERTEX_SHADER, VERTEX_SHADER));
  gl.attachShader(linked, compile(gl.FRAGMENT_SHADER, FRAGMENT_SHADER));
  gl.bindAttribLocation(linked, 0, "position");
  gl.bindAttribLocation(linked, 1, "normal");
  gl.bindAttribLocation(linked, 2, "uv");
  gl.linkProgram(linked);
  if (!gl.getProgramParameter(linked, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(linked));
  return linked;
}

function wireframeIndices(triangles) {
  const lines = new Uint32Array(triangles.length * 2);
  for (let t = 0; t < triangles.length; t += 3) {
    const [a, b, c] = [triangles[t], triangles[t + 1], triangles[t + 2]];
    lines.set([a, b, b, c, c, a], t * 2);
  }
  return lines;
}

class Viewer {
  constructor(model, el) {
    this.model = model;
    this.canvas = document.createElement("canvas");
    this.canvas.className = "cliphead-viewer";
    this.canvas.style.cssText = "width:100%;display:block;touch-action:none;cursor:grab;border-radius:6px;background:#f4f4f4";
    this.canvas.style.height = `${model.get("height")}px`;
    el.appendChild(this.canvas);
    this.gl = this.canvas.getContext("webgl2", { antialias: true, preserveDrawingBuffer: true });
    if (!this.gl) { el.textContent = "This browser has no WebGL2: the 3D view cannot be shown."; return; }
    this.program = program(this.gl);
    this.buffers = {};
    this.images = {};
    this.frames = 0;
    this.reset();
    this.listen();
    this.load();
  }

  reset() {
    this.yaw = 0; this.pitch = 0; this.zoom = 1; this.pan = [0, 0, 0];
    this.request();
  }

  listen() {
    const canvas = this.canvas;
    let drag = null;
    canvas.addEventListener("contextmenu", (event) => event.preventDefault());
    canvas.addEventListener("dblclick", () => this.reset());
    canvas.addEventListener("pointerdown", (event) => {
      drag = { x: event.clientX, y: event.clientY, pan: event.button === 2 || event.shiftKey };
      canvas.setPointerCapture(event.pointerId);
      canvas.style.cursor = "grabbing";
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      drag.x = event.clientX; drag.y = event.clientY;
      if (drag.pan) {
        const step = (this.radius * 2 * this.zoom) / canvas.clientHeight;
        const c = Math.cos(this.yaw), s = Math.sin(this.yaw);
        this.pan = [this.pan[0] - step * dx * c, this.pan[1] + step * dy, this.pan[2] + step * dx * s];
      } else {
        this.yaw -= dx * 0.01;
        this.pitch = Math.max(-1.5, Math.min(1.5, this.pitch + dy * 0.01));
      }
      this.request();
    });
    const release = () => { drag = null; canvas.style.cursor = "grab"; };
    canvas.addEventListener("pointerup", release);
    canvas.addEventListener("pointercancel", release);
    canvas.addEventListener("wheel", (event) => {
      event.preventDefault();
      this.zoom = Math.max(0.2, Math.min(5, this.zoom * Math.exp(event.deltaY * 0.001)));
      this.request();
    }, { passive: false });
    new ResizeObserver(() => this.request()).observe(canvas);
    for (const name of ["positions", "normals", "uvs", "indices", "landmarks", "texture", "normal_map"]) {
      this.model.on(`change:${name}`, () => this.scheduleLoad());
    }
    for (const name of ["mode", "wireframe", "landmarks_shown", "height"]) this.model.on(`change:${name}`, () => this.request());
  }

  scheduleLoad() {
    if (this.loading) return;
    this.loading = true;
    requestAnimationFrame(() => { this.loading = false; this.load(); });
  }

  buffer(name, target, data) {
    const gl = this.gl;
    if (!this.buffers[name]) this.buffers[name] = gl.createBuffer();
    gl.bindBuffer(target, this.buffers[name]);
    gl.bufferData(target, data, gl.STATIC_DRAW);
  }

  load() {
    const gl = this.gl, model = this.model;
    const positions = floats(model.get("positions"));
    this.triangles = uints(model.get("indices"));
    this.landmarkCount = floats(model.get("landmarks")).length / 3;
    if (!positions.length || !this.triangles.length) return;
    this.buffer("positions", gl.ARRAY_BUFFER, positions);
    this.buffer("normals", gl.ARRAY_BUFFER, floats(model.get("normals")));
    this.buffer("uvs", gl.ARRAY_BUFFER, floats(model.get("uvs")));
    this.buffer("landmarks", gl.ARRAY_BUFFER, floats(model.get("landmarks")));
    this.buffer("triangles", gl.ELEMENT_ARRAY_BUFFER, this.triangles);
    this.buffer("lines", gl.ELEMENT_ARRAY_BUFFER, wireframeIndices(this.triangles));
    const low = [Infinity, Infinity, Infinity], high = [-Infinity, -Infinity, -Infinity];
    for (let i = 0; i < positions.length; i += 3) {
      for (let k = 0; k < 3; k++) { low[k] = Math.min(low[k], positions[i + k]); high[k] = Math.max(high[k], positions[i + k]); }
    }
    this.centre = low.map((x, k) => (x + high[k]) / 2);
    this.radius = Math.hypot(...high.map((x, k) => x - low[k])) / 2;
    Promise.all(["texture", "normal_map"].map((name) => this.image(name))).then(() => this.request());
  }

  async image(name) {
    const gl = this.gl, bytes = this.model.get(name);
    if (!bytes || !bytes.byteLength) { this.images[name] = null; return; }
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }));
    if (!this.images[name]) this.images[name] = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, this.images[name]);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, bitmap);
    gl.generateMipmap(gl.TEXTURE_2D);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR_MIPMAP_LINEAR);
  }

  request() {
    if (this.pending || !this.gl) return;
    this.pending = true;
    requestAnimationFrame(() => { this.pending = false; this.draw(); });
  }

  attribute(name, location, size) {
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buffers[name]);
    gl.enableVertexAttribArray(location);
    gl.vertexAttribPointer(location, size, gl.FLOAT, false, 0, 0);
  }

  draw() {
    const gl = this.gl, canvas = this.canvas, scale = window.devicePixelRatio || 1;
    canvas.style.height = `${this.model.get("height")}px`;
    canvas.width = Math.round(canvas.clientWidth * scale);
    canvas.height = Math.round(canvas.clientHeight * scale);
    gl.viewport(0, 0, canvas.width, canvas.height);
    gl.clearColor(0.957, 0.957, 0.957, 1);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    if (!this.triangles || !this.triangles.length || !this.buffers.positions) return;
    gl.enable(gl.DEPTH_TEST);
    gl.useProgram(this.program);
    const distance = (this.radius / Math.tan(Math.PI / 12)) * this.zoom * 0.8;
    const target = this.centre.map((x, k) => x + this.pan[k]);
    const eye = [
      target[0] + distance * Math.cos(this.pitch) * Math.sin(this.yaw),
      target[1] + distance * Math.sin(this.pitch),
      target[2] + distance * Math.cos(this.pitch) * Math.cos(this.yaw),
    ];
    const uniform = (name) => gl.getUniformLocation(this.program, name);
    gl.uniformMatrix4fv(uniform("projection"), false, perspective(Math.PI / 6, canvas.width / canvas.height, distance / 20, distance * 4));
    gl.uniformMatrix4fv(uniform("view"), false, lookAt(eye, target, [0, 1, 0]));
    gl.uniform1f(uniform("depthBias"), 0);
    let mode = MODES[this.model.get("mode")];
    const image = mode === 1 ? this.images.normal_map : this.images.texture;
    if (mode <= 1 && !image) mode = 2;
    gl.uniform1i(uniform("mode"), mode);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, image || null);
    gl.uniform1i(uniform("image"), 0);
    this.attribute("positions", 0, 3);
    this.attribute("normals", 1, 3);
    this.attribute("uvs", 2, 2);
    gl.enable(gl.POLYGON_OFFSET_FILL);
    gl.polygonOffset(1, 1);
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.buffers.triangles);
    gl.drawElements(gl.TRIANGLES, this.triangles.length, gl.UNSIGNED_INT, 0);
    gl.disable(gl.POLYGON_OFFSET_FILL);
    gl.uniform1i(uniform("mode"), 4);
    if (this.model.get("wireframe")) {
      gl.uniform3f(uniform("colour"), 0.15, 0.15, 0.2);
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.buffers.lines);
      gl.drawElements(gl.LINES, this.triangles.length * 2, gl.UNSIGNED_INT, 0);
    }
    if (this.model.get("landmarks_shown") && this.landmarkCount) {
      gl.uniform3f(uniform("colour"), 0.9, 0.1, 0.1);
      gl.uniform1f(uniform("depthBias"), 0.002);
      gl.disableVertexAttribArray(1);
      gl.disableVertexAttribArray(2);
      this.attribute("landmarks", 0, 3);
      gl.drawArrays(gl.POINTS, 0, this.landmarkCount);
    }
    this.frames += 1;
    canvas.dataset.frames = String(this.frames);
  }
}

export default {
  render({ model, el }) {
    new Viewer(model, el);
  },
};
