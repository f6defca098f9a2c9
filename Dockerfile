# One image for every Errand service; docker-compose.yml picks the service by
# its command (`node services/<name>/dist/main.js`). Production runs the
# compiled JavaScript: stage 1 builds every package and service to dist/
# (`pnpm build`, tsc), then keeps only the production dependencies; stage 2
# is that, on a clean Node image, without TypeScript, tsx or pnpm.

# ---------- build ----------
FROM node:20-bookworm-slim AS build
# CI=true: pnpm never prompts
ENV CI=true
RUN npm install -g pnpm@10.34.9 && pnpm --version
WORKDIR /app

# Dependencies first, from the lockfile alone, so a source change keeps this layer.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
RUN pnpm fetch

COPY . .
RUN pnpm install --frozen-lockfile --offline \
    && pnpm build \
    # drop the devDependencies (TypeScript, tsx, vitest...): dist/ needs none of them
    && pnpm install --frozen-lockfile --offline --prod \
    && rm -rf .ci docs bench test

# ---------- run ----------
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app /app
RUN mkdir -p /app/.data && chown -R node:node /app/.data
USER node
# the intake's HTTP port
EXPOSE 8080
CMD ["node", "--max-old-space-size=1024", "services/intake/dist/main.js"]
