# One image for every Errand service; docker-compose.yml picks the service by
# its command. Services run from TypeScript sources with tsx, as in development.
FROM node:20-bookworm-slim

# CI=true: pnpm never prompts
ENV CI=true
RUN npm install -g pnpm@10.34.9 && pnpm --version

WORKDIR /app

# Dependencies first, from the lockfile alone, so a source change keeps this layer.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
RUN pnpm fetch

COPY . .
# All dependencies, dev ones included: tsx runs the TypeScript sources.
RUN pnpm install --frozen-lockfile --offline \
    && mkdir -p /app/.data && chown -R node:node /app/.data
# set only now: with NODE_ENV=production pnpm would skip the devDependencies
ENV NODE_ENV=production

USER node
# the intake's HTTP port
EXPOSE 8080
# tsx is a devDependency of the root; --import resolves it from /app
CMD ["node", "--import", "tsx", "services/intake/src/main.ts"]
