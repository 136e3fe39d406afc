package dev.atmsae.browse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.atmsae.engine.Engine;
import dev.atmsae.engine.Engines;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The site in a real browser: Debian's headless chromium driven through chromedriver (Selenium), pages opened from
 * disk (file://, no server, no network). Installs the browser with tools/install-browser.sh when it is missing and
 * that can work (root + apt); otherwise the tests are skipped with "skipped: no browser". Screenshots of each page
 * kind go to target/browse-screenshots/ for a person to look at; the site stays in target/browse-site/.
 */
class BrowserTest {
    static final Path SHOTS = Path.of("target", "browse-screenshots");
    static final Path WORK = Path.of("target", "browse-site");
    static WebDriver driver;
    static Path site;

    @BeforeAll
    static void start() throws IOException {
        Browser browser = Browser.find();
        if (browser == null) {
            return; // every test is skipped by needBrowser()
        }
        deleteTree(WORK);
        BrowseFixture.harvest(WORK.resolve("harvest"), 60, "3", 1);
        BrowseFixture.probeSet(WORK.resolve("probe"), "3", 2);
        BrowseFixture.sae(WORK.resolve("atm-fixture"), true, "atm");
        BrowseFixture.sae(WORK.resolve("topk-fixture"), false, "topk");
        site = WORK.resolve("site").toAbsolutePath();
        try (Engine engine = Engines.cpu(2, false)) {
            SiteBuilder.build(engine, new SiteBuilder.Inputs(WORK.resolve("atm-fixture"), WORK.resolve("harvest"),
                    WORK.resolve("probe"), WORK.resolve("topk-fixture"), site), SiteBuilder.Options.defaults(),
                    new PrintWriter(new StringWriter()));
        }
        Files.createDirectories(SHOTS);
        Path profile = Files.createTempDirectory("atmsae-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(browser.chromium().toFile());
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1360,1000", "--user-data-dir=" + profile);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(browser.driver().toFile()).usingAnyFreePort().build();
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    @BeforeEach
    void needBrowser() {
        Assumptions.assumeTrue(driver != null, "skipped: no browser (chromium + chromedriver not found and not "
                + "installable here)");
    }

    @AfterAll
    static void stop() {
        if (driver != null) {
            driver.quit();
        }
    }

    /** Polls {@code condition} until it gives a non-null, non-false value (15 s at most). */
    private static <T> T until(java.util.function.Function<WebDriver, T> condition) {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (true) {
            T v = condition.apply(driver);
            if (v != null && !Boolean.FALSE.equals(v)) {
                return v;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting on " + driver.getCurrentUrl() + "; page text: "
                        + driver.findElement(By.tagName("body")).getText());
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    private static void open(String page) {
        driver.get(site.resolve(page).toUri().toString());
    }

    /** The whole page (the window grows to the page's height for the shot, then returns to its size). */
    private static void screenshot(String name) throws IOException {
        org.openqa.selenium.Dimension size = driver.manage().window().getSize();
        long height = (Long) ((org.openqa.selenium.JavascriptExecutor) driver)
                .executeScript("return document.documentElement.scrollHeight;");
        driver.manage().window().setSize(new org.openqa.selenium.Dimension(size.getWidth(),
                (int) Math.min(4000, Math.max(size.getHeight(), height + 140))));
        byte[] png = ((org.openqa.selenium.TakesScreenshot) driver).getScreenshotAs(OutputType.BYTES);
        Files.write(SHOTS.resolve(name + ".png"), png);
        driver.manage().window().setSize(size);
    }

    private static void noError() {
        assertTrue(driver.findElements(By.className("err")).isEmpty(), () ->
                "page error: " + driver.findElement(By.className("err")).getText());
    }

    @Test
    void overviewSearchLeadsToTheLatentAndItsHighlightedTopContext() throws IOException {
        open("index.html");
        until(d -> d.findElements(By.cssSelector("#latents tr.latrow")).size() > 1);
        noError();
        screenshot("overview");
        int cat = BrowseFixture.dirOf("cat");
        WebElement search = driver.findElement(By.id("search"));
        search.sendKeys(Integer.toString(cat));
        until(d -> d.findElements(By.cssSelector("#latents tr.latrow")).size() == 1);
        WebElement row = driver.findElement(By.cssSelector("#latents tr.latrow"));
        assertEquals(Integer.toString(cat), row.getAttribute("data-latent"));
        assertTrue(row.getText().contains("cat"), "top tokens shown: " + row.getText());
        row.findElement(By.tagName("a")).click();
        WebElement max = until(d -> {
            List<WebElement> m = d.findElements(By.cssSelector("#contexts .ctx.top .tok.max"));
            return m.isEmpty() ? null : m.getFirst();
        });
        noError();
        assertEquals("Latent #" + cat, driver.findElement(By.id("latent-title")).getText());
        assertEquals("cat", max.getText().trim());
        assertTrue(max.getAttribute("style").contains("background"), "the max token is shaded");
        assertTrue(driver.findElements(By.cssSelector("#neighbours a")).size() > 0, "nearest latents listed");
        assertTrue(driver.findElement(By.id("tags")).getText().contains("NOUN"), "POS tags shown");
        screenshot("latent");
        // a neighbour link loads another chunk entry through the hash
        driver.findElement(By.cssSelector("#neighbours a")).click();
        until(d -> !d.findElement(By.id("latent-title")).getText().equals("Latent #" + cat));
        noError();
    }

    @Test
    void absorptionViewListsTheAbsorbedRowsOfAParentClass() throws IOException {
        open("absorption.html");
        WebElement pill = until(d -> {
            List<WebElement> p = d.findElements(By.cssSelector("#classes .pill[data-name='NOUN']"));
            return p.isEmpty() ? null : p.getFirst();
        });
        pill.click();
        until(d -> d.findElements(By.cssSelector("#absorbed-rows tr.absrow")).size() > 0);
        noError();
        List<WebElement> rows = driver.findElements(By.cssSelector("#absorbed-rows tr.absrow"));
        for (WebElement r : rows) {
            assertTrue(r.getText().startsWith("dog"), "absorbed word: " + r.getText());
        }
        WebElement absorber = rows.getFirst().findElement(By.cssSelector(".chip.abs a"));
        assertEquals("#" + BrowseFixture.DOG, absorber.getText());
        screenshot("absorption");
        absorber.click();
        until(d -> d.findElements(By.id("latent-title")).size() == 1);
        assertEquals("Latent #" + BrowseFixture.DOG, driver.findElement(By.id("latent-title")).getText());
    }

    @Test
    void compareShowsBothSaesSideBySide() throws IOException {
        open("compare.html");
        until(d -> d.findElements(By.cssSelector("#compare-classes tr.cmprow")).size() == 3);
        noError();
        String metrics = driver.findElement(By.id("compare-metrics")).getText();
        assertTrue(metrics.contains("atm") && metrics.contains("topk"), metrics);
        screenshot("compare");
        // the second SAE's own pages work from its sub-site
        driver.findElement(By.cssSelector("#compare-metrics thead a[href^='compare/']")).click();
        until(d -> d.findElements(By.cssSelector("#latents tr.latrow")).size() > 1);
        noError();
    }

    /** Debian's chromium and chromedriver, installed on demand when possible. */
    record Browser(Path chromium, Path driver) {
        static Browser find() {
            Browser b = locate();
            if (b == null) {
                Path script = repoRoot().resolve("tools/install-browser.sh");
                if (Files.isRegularFile(script)) {
                    try {
                        Process p = new ProcessBuilder("bash", script.toString()).inheritIO().start();
                        p.waitFor(15, TimeUnit.MINUTES);
                    } catch (IOException | InterruptedException e) {
                        System.out.println("browser install failed: " + e);
                    }
                }
                b = locate();
            }
            if (b == null) {
                System.out.println("skipped: no browser");
            }
            return b;
        }

        private static Browser locate() {
            Path chromium = first("/usr/lib/chromium/chromium", "/usr/bin/chromium");
            Path driver = first("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");
            return chromium == null || driver == null ? null : new Browser(chromium, driver);
        }

        private static Path first(String... candidates) {
            for (String c : candidates) {
                if (new File(c).canExecute()) {
                    return Path.of(c);
                }
            }
            return null;
        }

        private static Path repoRoot() {
            Path p = Path.of("").toAbsolutePath();
            while (p != null && !Files.isRegularFile(p.resolve("tools/install-browser.sh"))) {
                p = p.getParent();
            }
            return p == null ? Path.of("") : p;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
