package coopgraph;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.ConnectorPortRegister;
import org.neo4j.configuration.connectors.ConnectorType;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.internal.helpers.HostnamePort;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.logging.Level;
import org.neo4j.logging.log4j.Log4jLogProvider;

/**
 * Starts a real Neo4j 5.26 Community DBMS (embedded) with only the Bolt connector enabled on
 * 127.0.0.1, auth disabled, for CoopGraph's tests and benchmarks.
 *
 * <p>Usage: {@code java -Xmx1500m -cp ... coopgraph.Neo4jLauncher --home DIR --import DIR
 * [--port N] [--pagecache-mb N] [--no-stdin-watch]}. Port 0 (the default) lets the OS choose a
 * free port; the actual port is reported on the READY line.
 *
 * <p>Protocol: once Bolt accepts connections and the default database is available, exactly one
 * line {@code COOPGRAPH_NEO4J_READY bolt://127.0.0.1:<port>} is written to stdout and flushed.
 * Every other message goes to stderr. The DBMS is shut down cleanly on SIGTERM/SIGINT (shutdown
 * hook) and when stdin reaches EOF, so a dead parent never leaves an orphan server.
 */
public final class Neo4jLauncher {
    public static final String READY_PREFIX = "COOPGRAPH_NEO4J_READY ";

    private static final Object LOCK = new Object();
    private static DatabaseManagementService dbms;
    private static boolean stopped;

    private Neo4jLauncher() {}

    public static void main(String[] args) throws Exception {
        Path home = null;
        Path importDir = null;
        int port = 0;
        long pageCacheMb = 512;
        boolean watchStdin = true;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--home" -> home = Path.of(args[++i]);
                case "--import" -> importDir = Path.of(args[++i]);
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--pagecache-mb" -> pageCacheMb = Long.parseLong(args[++i]);
                case "--no-stdin-watch" -> watchStdin = false;
                default -> usage("unknown argument: " + a);
            }
        }
        if (home == null) {
            usage("--home is required");
        }
        home = home.toAbsolutePath();
        importDir = (importDir == null ? home.resolve("import") : importDir).toAbsolutePath();
        Files.createDirectories(home);
        Files.createDirectories(importDir);

        PrintStream err = System.err;
        long t0 = System.nanoTime();

        // Stop cleanly on SIGTERM / SIGINT / System.exit.
        Runtime.getRuntime().addShutdownHook(new Thread(Neo4jLauncher::shutdown, "coopgraph-shutdown"));
        if (watchStdin) {
            Thread watcher = new Thread(Neo4jLauncher::watchStdin, "coopgraph-stdin-watch");
            watcher.setDaemon(true);
            watcher.start();
        }

        DatabaseManagementService service;
        try {
            service = new DatabaseManagementServiceBuilder(home)
                    .setUserLogProvider(new Log4jLogProvider(err, Level.INFO))
                    .setConfig(GraphDatabaseSettings.auth_enabled, false)
                    .setConfig(GraphDatabaseSettings.udc_enabled, false)
                    .setConfig(GraphDatabaseSettings.load_csv_file_url_root, importDir)
                    .setConfig(GraphDatabaseSettings.allow_file_urls, true)
                    .setConfig(GraphDatabaseSettings.pagecache_memory, pageCacheMb * 1024L * 1024L)
                    .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
                    .setConfig(GraphDatabaseSettings.default_listen_address, new SocketAddress("127.0.0.1"))
                    .setConfig(BoltConnector.enabled, true)
                    .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                    .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                    // Bolt otherwise idles 2 x 5 s on shutdown after the databases are closed.
                    .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofMillis(500))
                    .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofMillis(500))
                    .setConfig(HttpConnector.enabled, false)
                    .setConfig(HttpsConnector.enabled, false)
                    .build();
        } catch (Throwable e) {
            err.println("COOPGRAPH_NEO4J_FAILED could not start the DBMS: " + e);
            e.printStackTrace(err);
            err.flush();
            Runtime.getRuntime().halt(1);
            return;
        }
        synchronized (LOCK) {
            dbms = service;
            if (stopped) {
                // stdin closed / signal arrived while we were starting.
                service.shutdown();
                return;
            }
        }

        try {
            GraphDatabaseService neo4j = service.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
            if (!neo4j.isAvailable(TimeUnit.MINUTES.toMillis(10))) {
                throw new IllegalStateException("default database did not become available");
            }
            int boltPort = boundBoltPort(service, port);
            waitForTcp(boltPort, Duration.ofMinutes(5));
            double secs = (System.nanoTime() - t0) / 1e9;
            err.printf("coopgraph: Neo4j ready after %.2fs (home=%s, import=%s)%n", secs, home, importDir);
            err.flush();
            System.out.println(READY_PREFIX + "bolt://127.0.0.1:" + boltPort);
            System.out.flush();
        } catch (Throwable e) {
            err.println("COOPGRAPH_NEO4J_FAILED " + e);
            e.printStackTrace(err);
            err.flush();
            System.exit(1);
        }
        // Non-daemon Neo4j threads keep the JVM alive until shutdown.
    }

    private static int boundBoltPort(DatabaseManagementService service, int configured) {
        GraphDatabaseAPI system = (GraphDatabaseAPI) service.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        ConnectorPortRegister ports =
                system.getDependencyResolver().resolveDependency(ConnectorPortRegister.class);
        HostnamePort bound = ports.getLocalAddress(ConnectorType.BOLT);
        if (bound != null && bound.getPort() > 0) {
            return bound.getPort();
        }
        if (configured > 0) {
            return configured;
        }
        throw new IllegalStateException("Bolt connector did not register a port");
    }

    private static void waitForTcp(int port, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("Bolt port " + port + " does not accept connections", e);
                }
                Thread.sleep(100);
            }
        }
    }

    private static void watchStdin() {
        InputStream in = System.in;
        byte[] buf = new byte[256];
        try {
            while (in.read(buf) >= 0) {
                // Input is ignored; only EOF matters.
            }
        } catch (IOException ignored) {
            // Treat a broken stdin like EOF.
        }
        System.err.println("coopgraph: stdin closed, shutting Neo4j down");
        System.err.flush();
        System.exit(0);
    }

    private static void shutdown() {
        DatabaseManagementService service;
        synchronized (LOCK) {
            if (stopped) {
                return;
            }
            stopped = true;
            service = dbms;
        }
        if (service == null) {
            return;
        }
        long t0 = System.nanoTime();
        try {
            service.shutdown();
            System.err.printf("coopgraph: Neo4j shut down cleanly in %.2fs%n", (System.nanoTime() - t0) / 1e9);
        } catch (Throwable e) {
            System.err.println("coopgraph: error during shutdown: " + e);
            e.printStackTrace(System.err);
        }
        System.err.flush();
    }

    private static void usage(String problem) {
        System.err.println("coopgraph.Neo4jLauncher: " + problem);
        System.err.println(
                "usage: Neo4jLauncher --home DIR [--import DIR] [--port N] [--pagecache-mb N] [--no-stdin-watch]");
        System.exit(2);
    }
}
